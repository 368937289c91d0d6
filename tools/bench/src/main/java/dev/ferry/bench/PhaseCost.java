package dev.ferry.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.DoubleSupplier;

/** What a phase cost: cloud calls, throttled calls, the controller's API requests, its CPU. */
final class PhaseCost {
  private final CloudStats stats;
  private final AuditLog audit;
  // CPU clocks read at the phase's start and end, in the order they are reported
  private final Map<String, DoubleSupplier> clocks = new LinkedHashMap<>();
  private final Map<String, Double> atStart = new HashMap<>();
  private final Duration tailLimit;
  private JsonNode startStats;

  PhaseCost(long pid, CloudStats stats, AuditLog audit, Duration tailLimit) {
    this.stats = stats;
    this.audit = audit;
    this.tailLimit = tailLimit;
    long self = ProcessHandle.current().pid();
    clocks.put("cpuSeconds", () -> ProcStats.cpuSeconds(pid));
    // a JVM's JIT compiler threads (a Go binary has none): warming up, not per-reconcile work
    clocks.put("jitCpuSeconds", () -> ProcStats.jitCpuSeconds(pid));
    // what serving the phase cost the API server and etcd (the bench's own requests included):
    // on a machine they share, a controller's requests slow everyone's
    clocks.put("clusterCpuSeconds", ProcStats::clusterCpuSeconds);
    // the bench's own share (its creates, its watch) and what no process used
    clocks.put("benchCpuSeconds", () -> ProcStats.cpuSeconds(self));
    clocks.put("benchJitCpuSeconds", () -> ProcStats.jitCpuSeconds(self));
    clocks.put("idleCpuSeconds", ProcStats::idleCpuSeconds);
  }

  void begin() throws IOException, InterruptedException {
    audit.drain(); // requests so far belong to earlier phases
    startStats = stats.read();
    clocks.forEach((name, clock) -> atStart.put(name, clock.getAsDouble()));
  }

  Map<String, Object> end() throws IOException, InterruptedException {
    // a controller's events trail its last cloud call (queued, written after): they belong to
    // the phase that caused them, so it ends when the audit log (written as each request
    // completes) has been still for two seconds, longer than Ferry holds an Event (a second and
    // a tick of its timing wheel); at most tailLimit (upstream at its client limit writes
    // throughout)
    audit.awaitQuiet(Duration.ofSeconds(2), tailLimit);
    JsonNode now = stats.read();
    AuditLog.Counts api = audit.drain();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cloudCalls", CloudStats.sum(now, "kinds") - CloudStats.sum(startStats, "kinds"));
    m.put(
        "throttledCalls",
        CloudStats.sum(now, "throttled") - CloudStats.sum(startStats, "throttled"));
    m.put("cloudCallsByMethod", CloudStats.diff(now, startStats, "calls"));
    m.put("apiRequests", api.requests());
    m.put("apiWrites", api.writes());
    m.put("apiWritesByResource", api.writesByResource());
    // JIT threads come and go: a clock can read less at the end than at the start
    clocks.forEach(
        (name, clock) ->
            m.put(name, Timing.round(Math.max(0, clock.getAsDouble() - atStart.get(name)))));
    // the controller's CPU per CPU second of the bench's, whose work in a burst is the same
    // beside either controller (its creates, and its watch seeing each controller's two writes
    // per Service): on this shared machine a CPU second buys more or less work from one minute
    // to the next, and this quotient moves far less than either figure
    double bench = (double) m.get("benchCpuSeconds");
    m.put("cpuPerBenchCpu", bench > 0 ? Timing.round((double) m.get("cpuSeconds") / bench) : null);
    return m;
  }
}
