package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {

  private record Run(int code, String stderr) {}

  private static Run run(String... args) {
    PrintStream original = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      return new Run(
          new CommandLine(new Main()).execute(args), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(original);
    }
  }

  @Test
  @DisplayName("ferry run --provider nosuch exits non-zero and names the providers found")
  void unknownProvider() {
    Run r = run("run", "--provider", "nosuch", "--metrics-port", "0");
    assertThat(r.code()).isNotZero();
    assertThat(r.stderr())
        .contains("unknown provider 'nosuch'", "providers found: aws, azure, gcp, local");
  }

  @Test
  @DisplayName("a bad NodePort range is refused with the flag's value")
  void badRange() {
    Run r = run("run", "--node-port-range", "32000-31000");
    assertThat(r.code()).isNotZero();
    assertThat(r.stderr()).contains("32000-31000");
  }

  @Test
  @DisplayName("a missing kubeconfig file: one line naming it, exit 2")
  void missingKubeconfig() {
    Run r = run("run", "--kubeconfig", "/nonexistent/kubeconfig", "--metrics-port", "0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.stderr().strip())
        .isEqualTo(
            "ferry: kubeconfig /nonexistent/kubeconfig does not exist (--kubeconfig"
                + " /nonexistent/kubeconfig)");
  }

  @Test
  @DisplayName("an unreachable API server: one line naming the URL and where it came from, exit 2")
  void unreachable(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path kubeconfig = dir.resolve("kubeconfig");
    java.nio.file.Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: x, cluster: {server: "https://127.0.0.1:1"}}]
        users: [{name: x, user: {token: t}}]
        contexts: [{name: x, context: {cluster: x, user: x}}]
        current-context: x
        """);
    Run r = run("run", "--kubeconfig", kubeconfig.toString(), "--metrics-port", "0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.stderr().lines()).hasSize(1);
    assertThat(r.stderr())
        .contains("cannot reach the API server at https://127.0.0.1:1/", kubeconfig.toString());
  }

  @Test
  @DisplayName("--help lists every command with a description")
  void help() {
    java.io.StringWriter out = new java.io.StringWriter();
    new CommandLine(new Main()).setOut(new java.io.PrintWriter(out)).execute("--help");
    assertThat(out.toString()).contains("run ", "gc ", "generate-completion");
  }

  @picocli.CommandLine.Command(name = "run", description = "an extension's run")
  static final class OtherRun implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
      return 7;
    }
  }

  @Test
  @DisplayName(
      "the image's main class alone has run, gc and completion; an extension on the class path adds"
          + " its commands and replaces one of the same name")
  void extensions() {
    assertThat(Main.commandLine(List.of()).getSubcommands().keySet())
        .containsExactlyInAnyOrder("run", "gc", "generate-completion");
    CommandExtension demo = () -> List.of(new OtherRun());
    CommandLine cl = Main.commandLine(List.of(demo));
    assertThat(cl.getSubcommands().keySet())
        .containsExactlyInAnyOrder("run", "gc", "generate-completion");
    assertThat(cl.execute("run")).isEqualTo(7);
  }
}
