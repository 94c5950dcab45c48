// A Go App Engine app: a net/http server on $PORT.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("/", home)
	http.HandleFunc("/env", env)
	log.Printf("listening on :%s", port)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}

func home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	fmt.Fprintf(w, "%s! Service %s, instance %s.\n",
		os.Getenv("GREETING"), os.Getenv("GAE_SERVICE"), os.Getenv("GAE_INSTANCE"))
}

// env answers with the variables App Engine sets, as JSON.
func env(w http.ResponseWriter, r *http.Request) {
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GAE_") || k == "GOOGLE_CLOUD_PROJECT" || k == "PORT" {
			vars[k] = v
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(vars)
}
