module lambdasmith.local/bench/gobootstrap

go 1.19
