package dev.ferry.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.demo.KubeApiServerProcess;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The smoke run of {@code ferry bench scale} CI makes so the benchmark cannot rot: 20 Services on 5
 * Nodes, Ferry and the upstream service controller (both of its settings), each on a fresh real
 * kube-apiserver, from the launcher's class path. It checks what must hold whatever the machine's
 * speed: every phase finishes, one cloud call per Service and phase, nothing throttled, and nothing
 * done when nothing changed. Times are printed, never asserted.
 */
class ScaleBenchIT {

  @Test
  @DisplayName("ferry bench scale --services 20 --nodes 5 --compare upstream: every phase finishes")
  void smoke() throws Exception {
    Path root = Path.of("../..").toAbsolutePath().normalize();
    assumeTrue(
        KubeApiServerProcess.cached().isPresent() || onPath("go"),
        "no kube-apiserver binaries cached and no Go to build them (hack/kube-binaries.sh)");
    assumeTrue(onPath("go"), "no Go to build the upstream service controller");
    Path out = Path.of("target", "scale-smoke.json").toAbsolutePath();
    Files.deleteIfExists(out);
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p =
        new ProcessBuilder(
                java,
                "-Dferry.home=" + root,
                "-cp",
                LauncherClassPathIT.classPath(),
                "dev.ferry.cli.Main",
                "bench",
                "scale",
                "--services=20",
                "--nodes=5",
                "--latency=10ms",
                "--workers=5",
                "--idle=2s",
                "--phase-timeout=2m",
                "--compare=upstream",
                "--out=" + out)
            .redirectErrorStream(true)
            .start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(8, TimeUnit.MINUTES)).isTrue();
    System.out.println(text);
    assertThat(p.exitValue()).as(text).isZero();
    assertThat(text).contains("| create: all addressed (s) |", "upstream-unthrottled / ferry");

    JsonNode doc = new ObjectMapper().readTree(out.toFile());
    assertThat(doc.path("controllers").size()).isEqualTo(3);
    for (JsonNode c : doc.path("controllers")) {
      assertThat(c.path("completed").asBoolean()).isTrue();
      JsonNode phases = c.path("phases");
      assertThat(phases.path("create").path("cloudCalls").asLong()).isEqualTo(20);
      assertThat(phases.path("nodeAdded").path("cloudCalls").asLong()).isEqualTo(20);
      assertThat(phases.path("nodeRemoved").path("cloudCalls").asLong()).isEqualTo(20);
      assertThat(phases.path("readyFlap").path("cloudCalls").asLong()).isZero();
      assertThat(phases.path("idle").path("cloudCalls").asLong()).isZero();
      // the burst again in the restarted process: every Service made and addressed anew, and gone
      assertThat(phases.path("createAgain").path("completed").asBoolean()).isTrue();
      assertThat(phases.path("createAgain").path("cloudCalls").asLong()).isGreaterThanOrEqualTo(20);
      assertThat(phases.path("deleteAgain").path("completed").asBoolean()).isTrue();
      for (String phase : new String[] {"create", "nodeAdded", "delete", "createAgain"}) {
        assertThat(phases.path(phase).path("throttledCalls").asLong()).isZero();
      }
      assertThat(c.path("peakRssMiB").asDouble()).isPositive();
      // the API server and etcd are found among the bench's processes (20 creates cost them CPU)
      assertThat(phases.path("create").path("clusterCpuSeconds").asDouble()).isPositive();
      // the controller's CPU per CPU second of the bench's: both clocks ran (20 creates cost each)
      JsonNode create = phases.path("create");
      // (each figure rounded to 0.01 s before the quotient in the JSON)
      assertThat(create.path("cpuPerBenchCpu").asDouble())
          .isPositive()
          .isCloseTo(
              create.path("cpuSeconds").asDouble() / create.path("benchCpuSeconds").asDouble(),
              withinPercentage(15));
    }
    JsonNode ferry = doc.path("controllers").path("ferry").path("phases");
    // Ferry's own writes: nothing while idle or on a Ready flap; per new Service the finalizer,
    // the status and two Events; per node change one Event per Service, counted in its own phase
    // (they are written a second after the backend calls)
    assertThat(ferry.path("idle").path("apiWrites").asLong()).isZero();
    assertThat(ferry.path("readyFlap").path("apiWrites").asLong()).isZero();
    assertThat(ferry.path("nodeAdded").path("apiWrites").asLong()).isEqualTo(20);
    assertThat(ferry.path("nodeRemoved").path("apiWrites").asLong()).isEqualTo(20);
    assertThat(ferry.path("create").path("apiWrites").asLong()).isLessThanOrEqualTo(80);
  }

  private static boolean onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }
}
