"""Users, their roles and the regions they answer for."""
