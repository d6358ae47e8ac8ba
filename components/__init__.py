"""One module per numbered stack; `registry.STACKS` lists them in deployment order."""
