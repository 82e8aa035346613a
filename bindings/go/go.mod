module subsel.dev/go

go 1.19
