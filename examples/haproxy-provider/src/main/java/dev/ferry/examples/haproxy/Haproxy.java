package dev.ferry.examples.haproxy;

import dev.ferry.spi.ProviderException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One HAProxy in master-worker mode, run as a daemon on a directory: {@code haproxy.cfg} (global
 * settings, written once), {@code services/} (one file per Service, loaded in name order), the
 * master socket (reloads) and the admin socket (the runtime API). The daemon outlives the provider:
 * a restarted controller finds it running and its configuration on disk.
 */
final class Haproxy {

  private static final Duration RELOAD_TIMEOUT = Duration.ofSeconds(15);

  private final Path binary;
  private final Path dir;

  Haproxy(Path binary, Path dir) {
    this.binary = binary;
    this.dir = dir;
  }

  Path services() {
    return dir.resolve("services");
  }

  Path adminSocket() {
    return dir.resolve("admin.sock");
  }

  private Path masterSocket() {
    return dir.resolve("master.sock");
  }

  /** Whether the daemon answers on its admin socket. */
  boolean running() {
    try {
      return command("show info").contains("Pid:");
    } catch (IOException e) {
      return false;
    }
  }

  /** Starts the daemon on the current configuration (which must be valid). */
  void start() throws ProviderException {
    try {
      Files.createDirectories(services());
      Path global = dir.resolve("haproxy.cfg");
      if (!Files.exists(global)) {
        Files.writeString(global, globalConfig());
      }
      Files.deleteIfExists(masterSocket());
      run(
          List.of(
              binary.toString(),
              "-W",
              "-D",
              "-S",
              masterSocket().toString(),
              "-p",
              dir.resolve("haproxy.pid").toString(),
              "-f",
              global.toString(),
              "-f",
              services().toString()),
          "start");
      awaitWorker(-1);
    } catch (IOException e) {
      throw new ProviderException.Transient("cannot start haproxy in " + dir + ": " + e, e);
    }
  }

  private String globalConfig() {
    return String.join(
        "\n",
        "# written by Ferry's haproxy provider; Services' frontends are in services/",
        "global",
        "  stats socket " + adminSocket() + " mode 600 level admin expose-fd listeners",
        "  stats timeout 10s",
        "defaults",
        "  mode tcp",
        "  timeout connect 5s",
        "  timeout client 1h",
        "  timeout server 1h",
        "");
  }

  /** Checks the configuration on disk; the error text when haproxy refuses it. */
  void check() throws ProviderException {
    run(
        List.of(
            binary.toString(),
            "-c",
            "-q",
            "-f",
            dir.resolve("haproxy.cfg").toString(),
            "-f",
            services().toString()),
        "check the configuration");
  }

  /**
   * Reloads the daemon on the configuration on disk and waits for the new worker: established
   * connections stay with the old worker until they end.
   */
  void reload() throws ProviderException {
    check();
    long before = masterWorkerPid();
    try {
      masterCommand("reload");
    } catch (IOException e) {
      throw new ProviderException.Transient("haproxy's master socket: " + e.getMessage(), e);
    }
    awaitWorker(before);
  }

  /**
   * Waits until the master answers again with a new worker and that worker serves the admin socket.
   * The admin socket alone is not enough: an old worker can still answer on it, and the master
   * re-executes itself on a reload, refusing its socket until it has.
   */
  private void awaitWorker(long notPid) throws ProviderException {
    long deadline = System.nanoTime() + RELOAD_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      long pid = masterWorkerPid();
      if (pid > 0 && pid != notPid && workerPid() == pid) {
        return;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ProviderException.Transient("interrupted waiting for haproxy", e);
      }
    }
    throw new ProviderException.Transient(
        "haproxy did not start a worker within " + RELOAD_TIMEOUT.toSeconds() + "s", null);
  }

  /** The serving worker's process ID, -1 when none answers. */
  long workerPid() {
    try {
      for (String line : command("show info").split("\n")) {
        if (line.startsWith("Pid: ")) {
          return Long.parseLong(line.substring(5).trim());
        }
      }
    } catch (IOException e) {
      // no worker answers (yet)
    }
    return -1;
  }

  /**
   * The newest worker's process ID as the master lists it ({@code show proc}: the line under {@code
   * # workers} that has seen no reload), -1 when the master does not answer.
   */
  long masterWorkerPid() {
    try {
      boolean workers = false;
      for (String line : masterCommand("show proc").split("\n")) {
        if (line.startsWith("#")) {
          workers = line.startsWith("# workers");
        } else if (workers) {
          String[] columns = line.trim().split("\\s+");
          if (columns.length > 2 && columns[1].equals("worker") && columns[2].equals("0")) {
            return Long.parseLong(columns[0]);
          }
        }
      }
    } catch (IOException | NumberFormatException e) {
      // the master is re-executing itself, or not running
    }
    return -1;
  }

  /** One runtime API command; the answer's text. */
  String command(String command) throws IOException {
    return talk(adminSocket(), command);
  }

  private String masterCommand(String command) throws IOException {
    return talk(masterSocket(), command);
  }

  private static String talk(Path socket, String command) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
      // the master's socket answers and closes only once the client has finished sending
      ch.shutdownOutput();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteBuffer buf = ByteBuffer.allocate(8192);
      while (ch.read(buf) > 0) {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
      }
      return out.toString(StandardCharsets.UTF_8);
    }
  }

  private static void run(List<String> command, String what) throws ProviderException {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] output = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new ProviderException.Transient("haproxy did not " + what + " within 30s", null);
      }
      if (p.exitValue() != 0) {
        List<String> lines = new ArrayList<>();
        for (String line : new String(output, StandardCharsets.UTF_8).split("\n")) {
          if (line.contains("ALERT") || line.contains("error")) {
            lines.add(line.trim());
          }
        }
        throw new ProviderException.Transient(
            "haproxy could not " + what + " (exit " + p.exitValue() + "): " + lines, null);
      }
    } catch (IOException e) {
      throw new ProviderException.Transient(
          "cannot run " + command.get(0) + " (install haproxy, or set haproxy.binary): " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProviderException.Transient("interrupted running haproxy", e);
    }
  }

  /** Stops the daemon (for tests and tools; the provider never does). */
  void stop() throws IOException, InterruptedException {
    Path pidFile = dir.resolve("haproxy.pid");
    if (Files.exists(pidFile)) {
      long pid = Long.parseLong(Files.readString(pidFile).trim());
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    }
  }
}
