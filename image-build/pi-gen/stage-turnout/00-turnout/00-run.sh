#!/bin/bash -e
# Copy the card's turnout/ folder (`turnout-image bundle --out .../00-turnout/files/turnout`) into
# the image, where the chroot step below and every first boot find it.
if [ ! -f files/turnout/firstboot.sh ]; then
	echo "stage-turnout: no files/turnout/ here: run turnout-image bundle first (image-build/README.md)" >&2
	exit 1
fi
install -d -m 0755 "${ROOTFS_DIR}/opt/turnout/card"
cp -r files/turnout/. "${ROOTFS_DIR}/opt/turnout/card/"
