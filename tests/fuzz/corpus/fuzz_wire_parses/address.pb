
Lichtenbergstr. 885748Garching*DE