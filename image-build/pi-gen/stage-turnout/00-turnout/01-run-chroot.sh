#!/bin/bash -e
# Inside the image being built: the same first-boot script, in --image mode. It installs the
# apt packages (pi-gen has the internet), makes the venv, installs Turnout from the wheels and
# enables the kiosk's units. A card written with turnout-image then only moves the kiosk's
# settings into place and starts it: the first boot needs no network.
TURNOUT_CARD=/opt/turnout/card sh /opt/turnout/card/firstboot.sh --image
