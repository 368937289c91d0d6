package dev.ferry.examples.haproxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The daemon itself: reloads back to back, as four Services ensured at once make them. */
class HaproxyReloadTest {

  private static HaproxyFixture fixture;
  private static Haproxy haproxy;

  @BeforeAll
  static void start() throws Exception {
    fixture = new HaproxyFixture("127.0.124.0/24");
    haproxy = new Haproxy(Path.of(HaproxyFixture.binary()), fixture.dir);
    haproxy.start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (fixture != null) {
      fixture.stop();
    }
  }

  @Test
  @DisplayName("each reload returns once the master answers again with a new worker serving")
  void reloadsBackToBack() throws Exception {
    Set<Long> workers = new HashSet<>();
    workers.add(haproxy.masterWorkerPid());
    for (int i = 0; i < 15; i++) {
      Files.writeString(
          haproxy.services().resolve("s.cfg"),
          "frontend f\n  bind 127.0.124.1:" + (18000 + i) + "\n  default_backend b\n"
              + "backend b\n  server s 127.0.124.2:80\n");
      haproxy.reload();
      long worker = haproxy.masterWorkerPid();
      assertThat(haproxy.workerPid()).as("reload %d: the admin socket's worker", i).isEqualTo(worker);
      assertThat(workers.add(worker)).as("reload %d started a new worker %d", i, worker).isTrue();
    }
    assertThat(workers).hasSize(16).doesNotContain(-1L);
  }
}
