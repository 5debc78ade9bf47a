"""Milestone badges anyone can verify: Open Badges 3.0 credentials (W3C Verifiable Credentials
Data Model 2.0) secured as VC-JWT with the hub's Ed25519 key, revoked through a Bitstring Status
List. docs/badges.md says how to operate them (keys, rotation) and what each part means.

    keys.py         the issuer's signing keys in the data directory, and their JWK set
    credentials.py  the credential, achievement, issuer profile and status list as JSON (pure)
    proof.py        signing and verifying compact JWS (joserfc)
    images.py       each club's badge image, and a credential baked into it
    issuer.py       issuing a person's credentials, revoking, and verifying against the hub
"""
