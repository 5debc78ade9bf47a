"""The flash-and-go card: what a kiosk needs on a Raspberry Pi OS boot partition to set itself up.

``boot_files`` says what the files contain (pure: settings in, text out); ``card`` reads the
organiser's settings; ``partition`` reads and writes a boot partition (a mounted card, a FAT
image, or the FAT partition inside a whole ``.img``, through mtools: no root, no loop devices);
``bundle`` gathers the wheels, units and first-boot script; ``firstboot.sh`` runs on the Pi.
"""
