// The demo's default service: a plain net/http server on $PORT, as App
// Engine runs Go apps.
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
	log.Printf("default service listening on :%s", port)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}

func home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	log.Printf("%s %s", r.Method, r.URL.Path)
	fmt.Fprintf(w, "%s! This is service %q, instance %s.\n",
		os.Getenv("GREETING"), os.Getenv("GAE_SERVICE"), os.Getenv("GAE_INSTANCE"))
}

// env shows the App Engine variables the instance was started with.
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
