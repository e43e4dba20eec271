
2026-03-01customer asked