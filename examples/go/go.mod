module example.com/appdeck-go

go 1.22
