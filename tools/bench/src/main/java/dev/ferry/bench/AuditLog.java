package dev.ferry.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The API server's audit log, read on from where the last read stopped. */
final class AuditLog {
  private static final ObjectMapper JSON = new ObjectMapper();

  record Counts(long requests, long writes, Map<String, Long> writesByResource) {}

  private final Path file;
  private final String agentPrefix;
  private long offset;

  AuditLog(Path file, String agentPrefix) {
    this.file = file;
    this.agentPrefix = agentPrefix;
  }

  /** Returns once the log has not grown for {@code quiet}, or after {@code limit}. */
  void awaitQuiet(Duration quiet, Duration limit) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    long size = -1;
    long stillSince = System.nanoTime();
    while (System.nanoTime() < deadline) {
      long now = Files.exists(file) ? Files.size(file) : 0;
      if (now != size) {
        size = now;
        stillSince = System.nanoTime();
      } else if (System.nanoTime() - stillSince >= quiet.toNanos()) {
        return;
      }
      Thread.sleep(100);
    }
  }

  Counts drain() throws IOException {
    if (!Files.exists(file)) {
      return new Counts(0, 0, Map.of());
    }
    long requests = 0;
    long writes = 0;
    Map<String, Long> byResource = new java.util.TreeMap<>();
    // streamed line by line: a large run's log grows past what one array can hold
    try (var channel = java.nio.channels.FileChannel.open(file)) {
      if (channel.size() < offset) {
        // rotated or cut: what was read from here on would be a count from nowhere
        throw new IllegalStateException(
            "the API server's audit log " + file + " shrank below what was read; no count");
      }
      channel.position(offset);
      var in = new java.io.BufferedInputStream(java.nio.channels.Channels.newInputStream(channel));
      java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream(2048);
      int b;
      while ((b = in.read()) != -1) {
        if (b != '\n') {
          line.write(b);
          continue;
        }
        offset += line.size() + 1; // a line still being written is read next time
        JsonNode e = JSON.readTree(line.toByteArray());
        line.reset();
        if (!e.path("userAgent").asText("").startsWith(agentPrefix)) {
          continue;
        }
        requests++;
        String verb = e.path("verb").asText();
        if (List.of("create", "update", "patch", "delete", "deletecollection").contains(verb)) {
          writes++;
          JsonNode ref = e.path("objectRef");
          String resource =
              ref.path("resource").asText("?")
                  + (ref.hasNonNull("subresource") ? "/" + ref.path("subresource").asText() : "");
          byResource.merge(verb + " " + resource, 1L, Long::sum);
        }
      }
    }
    return new Counts(requests, writes, byResource);
  }
}
