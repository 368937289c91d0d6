package dev.ferry.provider.azure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Azure Resource Manager's Microsoft.Network load-balancing resources as ARM answers them, on the
 * JDK's HTTP server (no Azure Network emulator exists). Built from Azure's own descriptions, not
 * from the provider: every write is checked against the 2024-05-01 API's constraints ({@link
 * ArmSchema}) and the vendor model's members, and against Azure's cross-resource rules and limits
 * ({@link ArmRules}); answers have the shapes of recorded real ARM traffic (cloud-provider-azure's
 * {@code pkg/azclient/*}/testdata, replayed by {@link ArmReplayTest}): ARM's defaults in bodies,
 * 201 and {@code Azure-AsyncOperation} for a new resource, 200 without it for an unchanged one, 202
 * with both {@code Azure-AsyncOperation} and {@code Location} for a delete, ARM's error bodies (412
 * with {@code PreconditionFailedEtagMismatch}, 404 {@code ResourceNotFound} or {@code
 * ResourceGroupNotFound}). It knows resource groups (an unknown one is a 404, also for a list) and
 * the nodes' NIC IP configurations (so the per-NIC rules hold), and can fail operations, throttle
 * with any {@code Retry-After}, and answer 409 {@code AnotherOperationInProgress}.
 */
public final class ArmFake implements AutoCloseable {

  static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern RESOURCE =
      Pattern.compile(
          "(/subscriptions/[^/]+/resourcegroups/([^/]+)/providers/microsoft\\.network/"
              + "(loadbalancers|publicipaddresses|networksecuritygroups|publicipprefixes"
              + "|virtualnetworks)/[^/]+"
              + "(?:/securityrules/[^/]+)?)");
  private static final Pattern COLLECTION =
      Pattern.compile(
          "(/subscriptions/[^/]+/resourcegroups/([^/]+)/providers/microsoft\\.network/"
              + "(loadbalancers|publicipaddresses|networksecuritygroups))");
  private static final Pattern SUBSCRIPTION_PIPS =
      Pattern.compile("/subscriptions/[^/]+/providers/microsoft\\.network/publicipaddresses");
  private static final Pattern OPERATION =
      Pattern.compile(
          "/subscriptions/[^/]+/providers/microsoft\\.network/locations/[^/]+/(operations|operationresults)/([^/]+)");

  private final HttpServer server;
  private final String base;
  // lower-cased resource id -> resource as ARM stores it
  final Map<String, ObjectNode> resources = new ConcurrentHashMap<>();
  private final Set<String> groups = ConcurrentHashMap.newKeySet();
  final Map<String, ArmRules.Nic> nics = new ConcurrentHashMap<>();
  private final ArmStore store = new ArmStore(resources, nics);
  private final Map<String, Operation> operations = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
  private final AtomicLong etags = new AtomicLong();
  private final AtomicInteger addresses = new AtomicInteger();
  private final AtomicInteger throttleNext = new AtomicInteger();
  private volatile int throttleSeconds = 1;
  private final AtomicInteger failNext = new AtomicInteger();
  private final AtomicInteger busyNext = new AtomicInteger();
  private volatile String failNextOperation;
  private final AtomicInteger preconditionFailures = new AtomicInteger();
  private volatile java.time.Duration writeLatency = java.time.Duration.ZERO;
  private volatile Consumer<ObjectNode> interleave;

  /** An operation's end: polled once {@code InProgress}, then this status. */
  private record Operation(AtomicInteger left, String status, String resource) {}

  public ArmFake() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.createContext("/", this::handle);
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The resource manager endpoint to give the client. */
  public String endpoint() {
    return base + "/";
  }

  /** Makes a resource group exist (ARM answers 404 ResourceGroupNotFound for any other). */
  public void group(String subscription, String name) {
    groups.add(
        ("/subscriptions/" + subscription + "/resourcegroups/" + name).toLowerCase(Locale.ROOT));
  }

  /** A node's NIC IP configuration, in the NIC-based pools its owner put it in. */
  public void nic(String ipConfigurationId, String privateIp, String... pools) {
    Set<String> p = new java.util.TreeSet<>();
    for (String pool : pools) {
      p.add(pool.toLowerCase(Locale.ROOT));
    }
    nics.put(ipConfigurationId, new ArmRules.Nic(ipConfigurationId, privateIp, p));
  }

  /** The next {@code n} requests are answered 429 with {@code Retry-After: seconds}. */
  public void throttleNext(int n, int seconds) {
    throttleSeconds = seconds;
    throttleNext.set(n);
  }

  public void throttleNext(int n) {
    throttleNext(n, 1);
  }

  /** Every load-balancer PUT takes this long, as ARM's do (about a second on Azure). */
  public void writeLatency(java.time.Duration latency) {
    writeLatency = latency;
  }

  /**
   * Before the next load-balancer PUT is applied, {@code other} changes the stored load balancer as
   * another writer would (its ETag changes): the PUT then fails 412 unless it was made after.
   */
  public void interleave(Consumer<ObjectNode> other) {
    interleave = other;
  }

  /** The next {@code n} writes fail with a 500. */
  public void failNextWrites(int n) {
    failNext.set(n);
  }

  /** The next {@code n} writes are refused 409 AnotherOperationInProgress. */
  public void busyNextWrites(int n) {
    busyNext.set(n);
  }

  /** The next write's operation ends {@code Failed} or {@code Canceled} (the resource Failed). */
  public void failNextOperation(String status) {
    failNextOperation = status;
  }

  /** Sets a resource's provisioning state, as a failed or running operation leaves it. */
  public void state(String id, String state) {
    resources
        .get(id.toLowerCase(Locale.ROOT))
        .withObject("properties")
        .put("provisioningState", state);
  }

  /** Requests by {@code METHOD type}, e.g. {@code PUT loadbalancers}. */
  public Map<String, Long> calls() {
    Map<String, Long> out = new TreeMap<>();
    calls.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  /** How many writes were refused for a stale ETag. */
  public int preconditionFailures() {
    return preconditionFailures.get();
  }

  /** The resource with this id, as ARM would answer a GET, or null. */
  public JsonNode get(String id) {
    ObjectNode r = resources.get(id.toLowerCase(Locale.ROOT));
    return r == null ? null : store.answer(r);
  }

  /** Every resource of {@code type} (e.g. {@code loadBalancers}). */
  public List<JsonNode> all(String type) {
    String t = "/" + type.toLowerCase(Locale.ROOT) + "/";
    List<JsonNode> out = new ArrayList<>();
    new TreeMap<>(resources)
        .forEach(
            (id, r) -> {
              if (id.contains(t) && !id.substring(id.indexOf(t) + t.length()).contains("/")) {
                out.add(store.answer(r));
              }
            });
    return out;
  }

  /** Puts a resource as another owner made it (AKS's load balancer, a user's public IP, an NSG). */
  public void seed(String id, String json) throws IOException {
    ObjectNode node = (ObjectNode) JSON.readTree(json);
    node.put("id", id);
    node.put("name", id.substring(id.lastIndexOf('/') + 1));
    Matcher m = RESOURCE.matcher(id.toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("not a resource id: " + id);
    }
    groups.add(
        id.toLowerCase(Locale.ROOT)
            .substring(0, id.toLowerCase(Locale.ROOT).indexOf("/providers/")));
    node.put("etag", etag());
    ArmDefaults.apply(m.group(3), node, node.get("etag").asText(), this::nextAddress);
    if (m.group(3).equals("networksecuritygroups")) {
      for (JsonNode rule : node.path("properties").path("securityRules")) {
        ((ObjectNode) rule).put("id", id + "/securityRules/" + rule.get("name").asText());
      }
    }
    resources.put(id.toLowerCase(Locale.ROOT), node);
  }

  private String etag() {
    return "W/\""
        + java.util.UUID.nameUUIDFromBytes(Long.toString(etags.incrementAndGet()).getBytes())
        + "\"";
  }

  String nextAddress() {
    int n = addresses.incrementAndGet();
    return "20.61." + (n / 250) + "." + (n % 250 + 2);
  }

  private void handle(HttpExchange ex) throws IOException {
    try {
      route(ex);
    } catch (RuntimeException e) {
      error(ex, 500, "InternalServerError", e.toString());
    } finally {
      ex.close();
    }
  }

  private void count(String key) {
    calls.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
  }

  private void route(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String lower = path.toLowerCase(Locale.ROOT);
    String method = ex.getRequestMethod();
    Matcher op = OPERATION.matcher(lower);
    if (op.matches()) {
      poll(ex, op.group(2), op.group(1).equals("operationresults"));
      return;
    }
    if (throttleNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      count(method + " throttled");
      ex.getResponseHeaders().set("Retry-After", Integer.toString(throttleSeconds));
      error(ex, 429, "TooManyRequests", "The request is being throttled.");
      return;
    }
    if (SUBSCRIPTION_PIPS.matcher(lower).matches() && method.equals("GET")) {
      count("GET publicipaddresses listAll");
      list(ex, id -> id.contains("/providers/microsoft.network/publicipaddresses/"));
      return;
    }
    Matcher c = COLLECTION.matcher(lower);
    if (c.matches() && method.equals("GET")) {
      count("GET " + c.group(3) + " list");
      if (!groups.contains(lower.substring(0, lower.indexOf("/providers/")))) {
        groupNotFound(ex, c.group(2), path);
        return;
      }
      list(
          ex,
          id ->
              id.startsWith(c.group(1) + "/")
                  && !id.substring(c.group(1).length() + 1).contains("/"));
      return;
    }
    Matcher m = RESOURCE.matcher(lower);
    if (!m.matches()) {
      error(ex, 404, "NotFound", "no such path " + path);
      return;
    }
    String id = m.group(1);
    String type = id.contains("/securityrules/") ? "securityrules" : m.group(3);
    count(method + " " + type);
    if (!groups.contains(id.substring(0, id.indexOf("/providers/")))) {
      groupNotFound(ex, m.group(2), path);
      return;
    }
    if (!method.equals("GET") && failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      error(ex, 500, "InternalServerError", "An error occurred.");
      return;
    }
    if (!method.equals("GET") && busyNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      error(
          ex,
          409,
          "AnotherOperationInProgress",
          "Another operation on this or dependent resource is in progress. To retrieve status of the"
              + " operation use uri: "
              + base
              + "/subscriptions/x/providers/Microsoft.Network/locations/"
              + "westeurope/operations/busy?api-version=2024-05-01.");
      return;
    }
    byte[] body = ex.getRequestBody().readAllBytes();
    if (method.equals("PUT") && type.equals("loadbalancers") && !writeLatency.isZero()) {
      try {
        Thread.sleep(writeLatency.toMillis()); // outside the lock: writes overlap as on ARM
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (this) {
      Consumer<ObjectNode> other = interleave;
      if (other != null && method.equals("PUT") && type.equals("loadbalancers")) {
        interleave = null;
        ObjectNode stored = resources.get(id);
        other.accept(stored);
        stored.put("etag", etag());
      }
      ObjectNode existing = resources.get(id);
      switch (method) {
        case "GET" -> {
          if (existing == null) {
            String kind = path.split("/providers/")[1];
            kind = kind.substring(0, kind.lastIndexOf('/'));
            error(
                ex,
                404,
                "ResourceNotFound",
                "The Resource '"
                    + kind
                    + "/"
                    + path.substring(path.lastIndexOf('/') + 1)
                    + "' under resource group '"
                    + path.split("/")[4]
                    + "' was not found. For more details please go to"
                    + " https://aka.ms/ARMResourceNotFoundFix");
          } else {
            send(ex, 200, store.answer(existing));
          }
        }
        case "PUT" -> put(ex, path, id, type, existing, body);
        case "DELETE" -> delete(ex, id, type, existing);
        default -> error(ex, 405, "MethodNotAllowed", method);
      }
    }
  }

  private void groupNotFound(HttpExchange ex, String group, String path) throws IOException {
    String name = path.split("/")[4];
    error(ex, 404, "ResourceGroupNotFound", "Resource group '" + name + "' could not be found.");
  }

  private void list(HttpExchange ex, java.util.function.Predicate<String> which)
      throws IOException {
    ObjectNode answer = JSON.createObjectNode();
    ArrayNode value = answer.putArray("value");
    new TreeMap<>(resources)
        .forEach(
            (id, r) -> {
              if (which.test(id) && !id.contains("/securityrules/")) {
                value.add(store.answer(r));
              }
            });
    send(ex, 200, answer);
  }

  private void put(
      HttpExchange ex, String path, String id, String type, ObjectNode existing, byte[] body)
      throws IOException {
    String ifMatch = ex.getRequestHeaders().getFirst("If-Match");
    // If-None-Match is not part of ARM's API for these resources: it is ignored, as ARM does
    if (ifMatch != null && (existing == null || !ifMatch.equals(existing.get("etag").asText()))) {
      preconditionFailures.incrementAndGet();
      ObjectNode e = JSON.createObjectNode();
      ObjectNode err =
          e.putObject("error")
              .put("code", "PreconditionFailed")
              .put("message", "Precondition failed.");
      err.putArray("details")
          .addObject()
          .put("code", "PreconditionFailedEtagMismatch")
          .put(
              "message",
              "Etag provided in if-match header "
                  + (ifMatch.startsWith("W/") ? ifMatch : "W/\"" + ifMatch + "\"")
                  + " does not match etag "
                  + (existing == null ? "" : existing.get("etag").asText())
                  + " of resource "
                  + path
                  + " in NRP data store.");
      send(ex, 412, e);
      return;
    }
    ObjectNode input = (ObjectNode) JSON.readTree(body);
    String refused = ArmValidation.check(type, body, input);
    if (refused != null) {
      error(ex, 400, "InvalidRequestFormat", refused);
      return;
    }
    ObjectNode stored = input.deepCopy();
    ArmDefaults.forget(stored); // what ARM computes itself it ignores in a request
    stored.put("id", path);
    stored.put("name", path.substring(path.lastIndexOf('/') + 1));
    String etag = etag();
    stored.put("etag", etag);
    stored.put(
        "location",
        input
            .path("location")
            .asText(existing == null ? "westeurope" : existing.path("location").asText()));
    ArmDefaults.apply(type, stored, etag, this::nextAddress);
    ArmDefaults.keep(type, stored, existing);
    ArmRules.Refusal refusal =
        switch (type) {
          case "loadbalancers" ->
              store.references(stored) != null
                  ? store.references(stored)
                  : ArmRules.loadBalancer(stored, store.account(stored));
          case "securityrules" -> {
            ObjectNode nsg = resources.get(id.substring(0, id.indexOf("/securityrules/")));
            yield nsg == null
                ? new ArmRules.Refusal(
                    "ResourceNotFound", "The network security group was not found.")
                : ArmRules.securityRule(nsg, stored);
          }
          case "publicipaddresses" -> ArmIpv6Rules.publicIp(stored);
          default -> null;
        };
    if (refusal != null) {
      error(ex, 400, refusal.code(), refusal.message());
      return;
    }
    // recorded: a network security group's PUT always runs an operation, answered Succeeded when
    // nothing changed; the others answer an unchanged PUT 200 with no operation
    boolean same =
        existing != null
            && "Succeeded"
                .equals(existing.path("properties").path("provisioningState").asText("Succeeded"))
            && store.sameContent(existing, stored); // a PUT on a Failed resource runs again
    boolean unchanged = same && !type.equals("networksecuritygroups");
    if (unchanged) {
      send(ex, 200, store.answer(existing)); // ARM: 200, no operation, the ETag kept
      return;
    }
    String failure = failNextOperation;
    failNextOperation = null;
    if (failure != null) {
      stored.withObject("properties").put("provisioningState", "Failed");
    }
    resources.put(id, stored);
    if (type.equals("securityrules")) {
      ObjectNode nsg = resources.get(id.substring(0, id.indexOf("/securityrules/")));
      ArrayNode rules = nsg.withObject("properties").withArray("securityRules");
      for (Iterator<JsonNode> it = rules.iterator(); it.hasNext(); ) {
        if (it.next().path("name").asText().equalsIgnoreCase(stored.get("name").asText())) {
          it.remove();
        }
      }
      rules.add(stored);
    }
    String opId = java.util.UUID.randomUUID().toString();
    operations.put(
        opId, new Operation(new AtomicInteger(1), failure == null ? "Succeeded" : failure, id));
    ex.getResponseHeaders().set("Azure-AsyncOperation", operationUrl("operations", opId));
    ObjectNode answer = store.answer(stored);
    if (!type.equals("loadbalancers") && !same) {
      // recorded: a load balancer answers Succeeded at once, the others Updating (an unchanged
      // group Succeeded); a new public IP has no address until its operation ends
      ArmDefaults.running(answer);
    }
    if (existing == null) {
      answer.withObject("properties").remove("ipAddress");
    }
    send(ex, existing == null ? 201 : 200, answer);
  }

  private String operationUrl(String kind, String opId) {
    return base
        + "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Network/locations/westeurope/"
        + kind
        + "/"
        + opId
        + "?api-version=2024-05-01";
  }

  private void delete(HttpExchange ex, String id, String type, ObjectNode existing)
      throws IOException {
    if (existing == null) {
      ex.sendResponseHeaders(204, -1);
      return;
    }
    if (type.equals("publicipaddresses")) {
      ArmRules.Refusal r =
          ArmRules.deletePublicIp(existing.path("id").asText(), store.account(null));
      if (r != null) {
        error(ex, 400, r.code(), r.message());
        return;
      }
    }
    resources.remove(id);
    if (id.contains("/securityrules/")) {
      String group = id.substring(0, id.indexOf("/securityrules/"));
      ArrayNode rules = resources.get(group).withObject("properties").withArray("securityRules");
      for (Iterator<JsonNode> it = rules.iterator(); it.hasNext(); ) {
        if (it.next().path("id").asText().equalsIgnoreCase(id)) {
          it.remove();
        }
      }
    }
    String opId = java.util.UUID.randomUUID().toString();
    operations.put(opId, new Operation(new AtomicInteger(1), "Succeeded", id));
    ex.getResponseHeaders().set("Azure-AsyncOperation", operationUrl("operations", opId));
    ex.getResponseHeaders().set("Location", operationUrl("operationResults", opId));
    ex.getResponseHeaders().set("Retry-After", "1");
    ex.sendResponseHeaders(202, -1);
  }

  private void poll(HttpExchange ex, String opId, boolean location) throws IOException {
    count("GET operations");
    Operation op = operations.get(opId);
    if (op == null) {
      error(ex, 404, "NotFound", "no operation " + opId);
      return;
    }
    boolean running = op.left().getAndDecrement() > 0;
    ex.getResponseHeaders().set("Retry-After", "1");
    if (location) {
      ex.sendResponseHeaders(running ? 202 : 204, -1);
      return;
    }
    ObjectNode status = JSON.createObjectNode().put("status", running ? "InProgress" : op.status());
    if (!running && !op.status().equals("Succeeded")) {
      status
          .putObject("error")
          .put("code", op.status().equals("Canceled") ? "Canceled" : "InternalServerError")
          .put("message", "The operation on " + op.resource() + " ended " + op.status() + ".");
    }
    send(ex, 200, status);
  }

  static void error(HttpExchange ex, int status, String code, String message) throws IOException {
    ObjectNode body = JSON.createObjectNode();
    ObjectNode e = body.withObject("error").put("code", code).put("message", message);
    if (status != 404) { // recorded: ARM's gateway answers a 404 without details
      e.putArray("details");
    }
    send(ex, status, body);
  }

  private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    if (status == 200 && body.has("etag") && ex.getRequestMethod().equals("GET")) {
      ex.getResponseHeaders().set("ETag", body.get("etag").asText());
    }
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
