"Fleet renewal(2:°Ú³ÿÿÿÿÿÿEURr
2026-03-01customer askedr
2026-03-01customer asked