// Command loggen is the dashboard benchmark's instance: it listens on
// $PORT and prints $LINES_PER_SEC log lines a second (default 5,000) in
// batches every 10 ms, every hundredth on stderr. Each second it writes
// how many lines it has printed to $BENCH_DIR/count-$GAE_INSTANCE, so the
// benchmark can check that appdeck kept up.
package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	rate, err := strconv.Atoi(os.Getenv("LINES_PER_SEC"))
	if err != nil || rate <= 0 {
		rate = 5000
	}
	go func() { _ = http.ListenAndServe(":"+os.Getenv("PORT"), nil) }()
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	countFile := filepath.Join(os.Getenv("BENCH_DIR"), "count-"+os.Getenv("GAE_INSTANCE"))
	start := time.Now()
	printed := 0
	lastReport := start
	for t := range time.Tick(10 * time.Millisecond) {
		due := int(t.Sub(start).Seconds() * float64(rate))
		for ; printed < due; printed++ {
			if printed%100 == 99 {
				out.Flush()
				fmt.Fprintf(os.Stderr, "warning: request %d took longer than expected\n", printed)
				continue
			}
			fmt.Fprintf(out, "%s INFO handled GET /items/%d in %dµs status=200\n", t.Format("15:04:05.000"), printed, printed%997)
		}
		out.Flush()
		if os.Getenv("BENCH_DIR") != "" && t.Sub(lastReport) >= time.Second {
			lastReport = t
			_ = os.WriteFile(countFile, []byte(strconv.Itoa(printed)), 0o644)
		}
	}
}
