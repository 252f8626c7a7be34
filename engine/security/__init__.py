"""Security controls: file permissions, the LIVE confirmation gate, secret redaction."""
