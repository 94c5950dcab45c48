package com.example;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;

/** A Java App Engine app: the JDK's own HTTP server on $PORT. */
public class Main {
  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext("/", Main::handle);
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.start();
    System.out.println("listening on :" + port);
  }

  private static void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    if (path.equals("/")) {
      send(ex, 200, "text/plain; charset=utf-8", String.format("%s! Service %s, instance %s.%n",
          System.getenv("GREETING"), System.getenv("GAE_SERVICE"), System.getenv("GAE_INSTANCE")));
    } else if (path.equals("/env")) {
      send(ex, 200, "application/json", envJSON());
    } else {
      send(ex, 404, "text/plain; charset=utf-8", "not found\n");
    }
  }

  /** The variables App Engine sets, as a JSON object. */
  private static String envJSON() {
    StringBuilder b = new StringBuilder("{");
    for (Map.Entry<String, String> e : new TreeMap<>(System.getenv()).entrySet()) {
      String k = e.getKey();
      if (k.startsWith("GAE_") || k.equals("GOOGLE_CLOUD_PROJECT") || k.equals("PORT")) {
        if (b.length() > 1) {
          b.append(',');
        }
        b.append(quote(k)).append(':').append(quote(e.getValue()));
      }
    }
    return b.append("}\n").toString();
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }
}
