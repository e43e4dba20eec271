
ETV 216Jungheinrich