"""Every SQL statement of the service, always with bound parameters: one module per thing stored."""
