
acc-0042Hofer Logistik GmbH	logistics"ð*(
Lichtenbergstr. 885748Garching*DE2+49 89 3270 11002+49 89 3270 1100@PXj*
electric forklifts°Ú³ÿÿÿÿÿÿEURQ3r
ETV 216JungheinrichzPrefers visits on Tuesdays.‚fleet‚key account