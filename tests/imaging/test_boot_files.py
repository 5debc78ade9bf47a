"""The cloud-init files, checked by cloud-init's own schema, its YAML parser and netplan."""

import pytest

from imaging import boot_files
from imaging.boot_files import Admin, Card, Wifi
from tests.imaging.tools import cloud_init_schema, netplan_render, yaml_load

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHc5c2V0dXA me@laptop"
HASH = "$6$rounds=5000$saltsalt$3Jl0k3TrVMlDz1pIbt6R2Hn4mY3VQy2TjNn6c9V0/xy1"

CARDS = {
    "no login": Card(hostname="door-1", instance_id="turnout-door-1-0001", kiosk_id="door-1"),
    "key login": Card(hostname="door-1", instance_id="i-2", admin=Admin("organiser", None, (KEY,))),
    "password and key": Card(hostname="hall", instance_id="i-3", admin=Admin("ops", HASH, (KEY, KEY + "2"))),
}


@pytest.mark.parametrize("name", CARDS)
def test_user_data_is_valid_cloud_config(name, tmp_path):
    done = cloud_init_schema(boot_files.user_data(CARDS[name]), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Valid cloud-config" in done.stdout


def test_user_data_says_what_it_should():
    data = yaml_load(boot_files.user_data(CARDS["password and key"]))
    assert data["hostname"] == "hall"
    kiosk, admin = data["users"]
    assert (kiosk["name"], kiosk["system"], kiosk["lock_passwd"]) == ("turnout", True, True)
    assert set(boot_files.KIOSK_GROUPS) <= set(kiosk["groups"])
    assert (admin["name"], admin["passwd"], admin["ssh_authorized_keys"]) == ("ops", HASH, [KEY, KEY + "2"])
    assert admin["sudo"] == "ALL=(ALL) ALL"  # with a password, sudo asks for it
    assert data["ssh_pwauth"] is False
    assert data["disable_piwiz"] is True
    unit = data["write_files"][0]
    assert unit["path"] == "/etc/systemd/system/turnout-firstboot.service"
    assert unit["content"] == boot_files.firstboot_unit()
    assert ["systemctl", "enable", "--now", "--no-block", "turnout-firstboot.service"] in data["runcmd"]
    assert ["systemctl", "enable", "--now", "--no-block", "ssh"] in data["runcmd"]


def test_without_a_login_ssh_stays_off():
    data = yaml_load(boot_files.user_data(CARDS["no login"]))
    assert [user["name"] for user in data["users"]] == ["turnout"]
    assert not any("ssh" in command for command in data["runcmd"])


def test_a_key_only_login_needs_no_password_for_sudo():
    admin = yaml_load(boot_files.user_data(CARDS["key login"]))["users"][1]
    assert (admin["lock_passwd"], admin["sudo"]) == (True, "ALL=(ALL) NOPASSWD:ALL")
    assert "passwd" not in admin


SSIDS = ["Venue Guest", "yes", "null", "#not-a-comment", "a: b", "back\\slash", '"quoted"', "café ☕",
         " leading space", "- dash", "{brace}", "%percent", "0x10"]


@pytest.mark.parametrize("ssid", SSIDS)
def test_any_network_name_reads_back_exactly(ssid, tmp_path):
    card = Card(hostname="door-1", instance_id="i", wifi=Wifi(ssid, "correct horse battery", "FR"))
    text = boot_files.network_config(card)
    wifi = yaml_load(text)["network"]["wifis"]["wlan0"]
    assert wifi["access-points"] == {ssid: {"password": "correct horse battery"}}
    assert wifi["regulatory-domain"] == "FR"
    done = netplan_render(text, tmp_path)
    assert done.returncode == 0, done.stderr


def test_netplan_renders_the_wifi_for_network_manager(tmp_path):
    card = Card(hostname="door-1", instance_id="i", wifi=Wifi("Venue Guest", "correct horse", "GB", hidden=True))
    done = netplan_render(boot_files.network_config(card), tmp_path)
    assert done.returncode == 0, done.stderr
    connections = tmp_path / "run/NetworkManager/system-connections"
    wifi = next(connections.glob("netplan-wlan0-*")).read_text()
    assert "ssid=Venue Guest" in wifi and "psk=correct horse" in wifi and "hidden=true" in wifi
    assert (connections / "netplan-eth0.nmconnection").exists()
    assert "GB" in (tmp_path / "run/systemd/system/netplan-regdom.service").read_text()


def test_an_open_network_has_no_password(tmp_path):
    card = Card(hostname="door-1", instance_id="i", wifi=Wifi("Library", None))
    text = boot_files.network_config(card)
    assert yaml_load(text)["network"]["wifis"]["wlan0"]["access-points"] == {"Library": {}}
    done = netplan_render(text, tmp_path)
    assert done.returncode == 0, done.stderr
    wifi = next((tmp_path / "run/NetworkManager/system-connections").glob("netplan-wlan0-*")).read_text()
    assert "psk" not in wifi


def test_without_wifi_only_ethernet(tmp_path):
    text = boot_files.network_config(CARDS["no login"])
    assert yaml_load(text)["network"] == {"version": 2, "ethernets": {"eth0": {"dhcp4": True, "optional": True}}}
    assert netplan_render(text, tmp_path).returncode == 0


def test_meta_data():
    data = yaml_load(boot_files.meta_data(CARDS["no login"]))
    assert data == {"dsmode": "local", "instance-id": "turnout-door-1-0001", "local-hostname": "door-1"}


PI_OS_CONFIG = """\
# For more options and information see
# http://rptl.io/configtxt

# Uncomment some or all of these to enable the optional hardware interfaces
#dtparam=i2c_arm=on
#dtparam=i2s=on
#dtparam=spi=on

dtparam=audio=on
camera_auto_detect=1

[cm4]
otg_mode=1

[all]
"""


def test_i2c_uncommented_in_raspberry_pi_os_config():
    edited = boot_files.enable_i2c(PI_OS_CONFIG)
    assert edited == PI_OS_CONFIG.replace("#dtparam=i2c_arm=on", "dtparam=i2c_arm=on")


@pytest.mark.parametrize("config", [
    "dtparam=i2c_arm=on\n",
    "dtparam=audio=on,i2c_arm=on,i2c_arm_baudrate=400000\n",
    "[pi4]\narm_boost=1\n[all]\ndtparam=i2c=on\n",
])
def test_i2c_already_on_is_left_alone(config):
    assert boot_files.enable_i2c(config) == config


def test_i2c_off_is_turned_on():
    assert boot_files.enable_i2c("dtparam=i2c_arm=off,i2c_arm_baudrate=400000\n") == \
        "dtparam=i2c_arm=on,i2c_arm_baudrate=400000\n"


@pytest.mark.parametrize("config", ["", "arm_boost=1", "[pi4]\ndtparam=i2c_arm=on\n", "[cm5]\n#dtparam=i2c_arm=on\n"])
def test_i2c_on_for_every_model_when_only_a_filtered_section_has_it(config):
    edited = boot_files.enable_i2c(config)
    assert edited.startswith(config)
    assert edited.endswith("[all]\ndtparam=i2c_arm=on\n")
    assert boot_files.enable_i2c(edited) == edited


def test_card_env_lists_what_first_boot_installs():
    scanner = boot_files.card_env(camera=False)
    assert 'TURNOUT_PACKAGES="python3-evdev python3-lgpio i2c-tools"' in scanner
    assert 'TURNOUT_EXTRA_WHEELS=""' in scanner
    camera = boot_files.card_env(camera=True)
    assert "python3-picamera2" in camera and "libzbar0t64|libzbar0" in camera
    assert 'TURNOUT_EXTRA_WHEELS="pyzbar zxing-cpp"' in camera


def test_card_env_takes_only_package_names():
    with pytest.raises(ValueError, match="not a package name"):
        boot_files.card_env(camera=False, extra_packages=("vim; rm -rf /",))


@pytest.mark.parametrize("kiosk_id, host", [
    ("door-1", "door-1"), ("Hall_2", "hall-2"), (None, "turnout-kiosk"), ("_", "turnout-kiosk"), ("a" * 32, "a" * 32),
])
def test_hostname_for(kiosk_id, host):
    assert boot_files.hostname_for(kiosk_id) == host
