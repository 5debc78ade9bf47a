"""Scanners: where scanned codes come from (USB HID scanner, stdin, camera)."""
