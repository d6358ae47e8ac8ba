"""Building blocks every stack shares: the base stack (backend, provider, tags) and hardened resources."""
