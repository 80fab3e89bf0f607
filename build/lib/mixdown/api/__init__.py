"""The TencentCloud-API-3.0 service (DESIGN §4.3): auth, envelope, actions, the HTTP app."""
