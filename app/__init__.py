"""SimCSE Studio: a live Qt dashboard for the simcse_core engine (never imported by it)."""
