#!/bin/sh
# Run inside the test VM by turnout-hil.service, from the run's own disk (/mnt/hil, made by run.py).
set -eu
here=/mnt/hil
echo "hil: guest up, kernel $(uname -r)"
sh -eu "$here/pi-install.sh" "$here/wheel" "$here/units"
modprobe uinput
# exclusive_caps: capture-only once a writer has set the format, as a webcam looks to OpenCV
modprobe v4l2loopback video_nr=9 card_label="HIL webcam" exclusive_caps=1
echo "hil: installed; driver starting"
status=0
/opt/turnout/.venv/bin/python "$here/driver.py" "$here/params.json" /dev/ttyS1 || status=$?
echo "hil: driver exited $status"
journalctl -b --no-pager -o short-monotonic -u turnout-kiosk | tail -n 300
# Power off now, whatever happened: the host reads the results port once qemu has exited.
# (systemd's SuccessAction= did not power the VM off here.) The root disk is a throwaway snapshot.
sync
echo o > /proc/sysrq-trigger
