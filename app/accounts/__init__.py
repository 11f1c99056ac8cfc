"""People who use the inbox: users with roles, password login, sessions and CSRF protection."""
