"""Read-only tools over compiled Plans and datasets: `compile --show` (show), `diff` (diff, and
compare for `diff --on`), `explain` (explain). They depend on the compiler and the runtime; neither
depends on them."""
