"""Project tooling: terraform runner, emulator launcher, bootstrap bucket, benchmark."""
