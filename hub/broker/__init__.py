"""The hub's Mosquitto: a complete configuration, kiosk accounts and the ACL, TLS files.

``files`` renders the configuration and the ACL (pure); ``accounts`` keeps the password file
(through ``mosquitto_passwd``) and the list of kiosks; ``tls`` makes a small CA for a LAN hub.
"""
