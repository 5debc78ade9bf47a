"""Buzzer feedback: tunes (pure) and players (gpiozero, or text in simulation)."""
