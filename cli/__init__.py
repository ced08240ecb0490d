"""The operator CLI (`bookinghub`, i.e. `python -m cli`): local tokens and Rooms monitoring."""
