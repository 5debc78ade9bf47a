#!/bin/sh
# Turnout first boot: set a kiosk up from the files turnout-image put on the boot partition.
#
# Run as root by turnout-firstboot.service (the card's user-data writes it), again after every
# failure until it succeeds: apt needs the internet, which may come later than the Pi does.
# The pi-gen stage runs it with --image inside the image being built, to install everything in
# advance; first boot then finds it all there and needs no network. Safe to run again.
set -eu

MODE=boot
if [ "${1:-}" = "--image" ]; then MODE=image; fi

CARD=${TURNOUT_CARD:-$(cd "$(dirname "$0")" && pwd)}
PREFIX=${TURNOUT_PREFIX:-/opt/turnout}
VENV="$PREFIX/.venv"
ETC=/etc/turnout
DONE=/var/lib/turnout-firstboot.done
WHEELS="$CARD/wheels"

say() { echo "turnout-firstboot: $*"; }

# TURNOUT_PACKAGES (apt; "a|b": the first that apt knows) and TURNOUT_EXTRA_WHEELS (pip).
# shellcheck source=/dev/null
. "$CARD/card.env"

# Progress on the kiosk's OLED, once Turnout's display code is installed. Never fails the boot.
screen() {
    if [ "$MODE" = boot ] && [ -x "$VENV/bin/python" ]; then
        "$VENV/bin/python" -m imaging.oled --config "$ETC/kiosk.toml" "$@" >/dev/null 2>&1 || true
    fi
}

# A secret on FAT can be read by anyone holding the card: overwrite it, then delete it.
scrub() {
    size=$(wc -c <"$1")
    dd if=/dev/zero of="$1" bs=1 count="$size" conv=notrunc 2>/dev/null || true
    sync
    rm -f "$1"
    sync
}

ensure_user() {
    if ! id turnout >/dev/null 2>&1; then
        useradd --system --user-group --home-dir /var/lib/turnout --no-create-home \
            --shell /usr/sbin/nologin --comment "Turnout kiosk" turnout
    fi
    for group in gpio i2c input video spi; do
        if getent group "$group" >/dev/null; then usermod -a -G "$group" turnout; fi
    done
}

# The kiosk joins venue wi-fi from a wi-fi card with nmcli as the turnout user, from a service
# with no login session: NetworkManager asks polkit, which says no unless a rule says yes.
allow_wifi_cards() {
    install -d -m 0755 /etc/polkit-1/rules.d
    cat >/etc/polkit-1/rules.d/50-turnout-wifi.rules <<'RULES'
// Turnout kiosk: its service (user turnout) may add wi-fi connections and bring them up.
polkit.addRule(function (action, subject) {
    if (subject.user == "turnout" &&
        (action.id == "org.freedesktop.NetworkManager.settings.modify.system" ||
         action.id == "org.freedesktop.NetworkManager.network-control")) {
        return polkit.Result.YES;
    }
});
RULES
}

move_settings() {
    if [ -f "$CARD/kiosk.toml" ]; then
        install -d -m 0755 "$ETC"
        install -m 0640 -o root -g turnout "$CARD/kiosk.toml" "$ETC/kiosk.toml"
        scrub "$CARD/kiosk.toml"
        say "kiosk settings moved to $ETC/kiosk.toml (mode 0640 root:turnout) and removed from the boot partition"
    fi
}

enable_i2c() {
    if command -v raspi-config >/dev/null 2>&1 && raspi-config nonint do_i2c 0; then
        return 0
    fi
    # Without raspi-config: config.txt already has dtparam=i2c_arm=on (turnout-image put it there)
    echo i2c-dev >/etc/modules-load.d/turnout-i2c.conf
    modprobe i2c-dev 2>/dev/null || true
}

pip_install() {
    if ! "$VENV/bin/python" -m pip install --quiet --no-index --find-links "$WHEELS" "$@"; then
        say "not everything is on the card; fetching the rest from the internet"
        "$VENV/bin/python" -m pip install --quiet --find-links "$WHEELS" "$@"
    fi
}

turnout_wheel() {
    for wheel in "$WHEELS"/turnout-*.whl; do
        if [ -f "$wheel" ]; then echo "$wheel"; return 0; fi
    done
    say "no Turnout wheel in $WHEELS: write the card again with turnout-image"
    return 1
}

# The venv and the display code first, from the card alone: then the OLED can show progress
# while apt waits for the internet.
early_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        install -d -m 0755 "$PREFIX"
        # picamera2, lgpio and evdev come from apt, so the venv sees the system's packages
        if ! python3 -m venv --system-site-packages --without-pip "$VENV"; then
            say "no venv yet (python3-venv comes with the packages); no progress on the screen until then"
            return 0
        fi
    fi
    if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        for pip_wheel in "$WHEELS"/pip-*.whl; do
            if [ -f "$pip_wheel" ]; then
                # pip runs from its own wheel: no ensurepip (python3-venv) and no internet needed
                "$VENV/bin/python" "$pip_wheel/pip" install --quiet --no-index --find-links "$WHEELS" pip || true
                break
            fi
        done
    fi
    if "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        wheel=$(turnout_wheel)
        "$VENV/bin/python" -m pip install --quiet --no-deps --force-reinstall "$wheel"
        "$VENV/bin/python" -m pip install --quiet --no-index --find-links "$WHEELS" luma.oled \
            || say "the display's wheels are not on the card: no progress on the screen until apt is done"
    fi
}

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

apt_packages() {
    set --
    updated=no
    for wanted in $TURNOUT_PACKAGES; do
        have=no
        for name in $(echo "$wanted" | tr '|' ' '); do
            if installed "$name"; then have=yes; fi
        done
        if [ "$have" = yes ]; then continue; fi
        if [ "$updated" = no ]; then
            say "installing packages with apt (this needs the internet)"
            screen "Setting up 1/3" "Installing packages (needs the internet)"
            if ! apt-get update -q; then
                screen "Setting up 1/3" "No internet yet: retrying"
                say "apt could not reach its servers: connect ethernet or check the wi-fi; retrying"
                return 1
            fi
            updated=yes
        fi
        pick=""
        for name in $(echo "$wanted" | tr '|' ' '); do
            if [ -z "$pick" ] && apt-cache show "$name" >/dev/null 2>&1; then pick=$name; fi
        done
        set -- "$@" "${pick:-$wanted}"
    done
    if [ "$#" -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
    fi
}

install_turnout() {
    if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        # no pip wheel on the card: python3-venv's ensurepip, now that apt can be used
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv
        python3 -m venv --system-site-packages "$VENV"
    fi
    wheel=$(turnout_wheel)
    "$VENV/bin/python" -m pip install --quiet --no-deps --force-reinstall "$wheel"
    # shellcheck disable=SC2086 # a list of names, one word each
    pip_install "$wheel" $TURNOUT_EXTRA_WHEELS
    "$VENV/bin/python" -m pip check || say "pip check found a problem (above); the kiosk may not start"
}

install_units() {
    set --
    for unit in "$CARD"/systemd/turnout-kiosk*; do
        if [ -f "$unit" ]; then
            install -m 0644 "$unit" /etc/systemd/system/
            set -- "$@" "$(basename "$unit")"
        fi
    done
    if [ "$#" -eq 0 ]; then
        say "no turnout-kiosk units in $CARD/systemd: write the card again with turnout-image"
        return 1
    fi
    if [ "$MODE" = boot ]; then systemctl daemon-reload; fi
    systemctl enable "$@"
    if [ "$MODE" = boot ]; then
        for unit in "$@"; do
            case "$unit" in *.service) systemctl restart "$unit" ;; esac
        done
    fi
}

say "starting ($MODE mode, card in $CARD)"
ensure_user
allow_wifi_cards
if [ "$MODE" = boot ]; then move_settings; fi
enable_i2c
early_venv
screen "Setting up 1/3" "Installing packages"
apt_packages
screen "Setting up 2/3" "Installing Turnout"
install_turnout
screen "Setting up 3/3" "Starting the kiosk"
install_units
if [ "$MODE" = boot ]; then
    touch "$DONE"
    say "done: the kiosk is running (journalctl -u turnout-kiosk)"
else
    say "done: installed in the image; first boot will move the settings and start the kiosk"
fi
