"""The OLED: screens rendered with luma (SSD1306/SH1106 over I2C, or a dummy in simulation)."""
