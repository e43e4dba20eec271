
electric forklifts°Ú³ÿÿÿÿÿÿEURQ3