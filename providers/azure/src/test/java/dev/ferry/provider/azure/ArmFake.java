package dev.ferry.provider.azure;

import com.azure.json.JsonProviders;
import com.azure.json.JsonReader;
import com.azure.json.JsonSerializable;
import com.azure.json.JsonWriter;
import com.azure.resourcemanager.network.fluent.models.LoadBalancerInner;
import com.azure.resourcemanager.network.fluent.models.NetworkSecurityGroupInner;
import com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner;
import com.azure.resourcemanager.network.fluent.models.SecurityRuleInner;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A faithful fake of the parts of Azure Resource Manager a Standard Load Balancer uses, on the
 * JDK's HTTP server, for the Azure provider's tests (no usable Azure Network emulator exists).
 *
 * <ul>
 *   <li>Every PUT body is parsed with the vendor's own {@code *Inner.fromJson} model class, and
 *       what those ignore is checked here: a field the model does not know is a 400 ({@code
 *       InvalidRequestFormat}), and references must resolve (a rule to a frontend, pool or probe
 *       the load balancer does not have, a frontend to a missing public IP: 400 {@code
 *       InvalidResourceReference}).
 *   <li>Every resource has an ETag; {@code If-Match} with another is a 412 {@code
 *       PreconditionFailed}, {@code If-None-Match: *} on an existing one too.
 *   <li>Both long-running-operation shapes: PUT answers 201 with {@code Azure-AsyncOperation},
 *       polled once {@code InProgress} then {@code Succeeded}; DELETE answers 202 with {@code
 *       Location}, 202 once then 200; each with {@code Retry-After: 0}. ARM's {@code
 *       {"error":{code,message}}} bodies; injectable 429 (with {@code Retry-After}) and 500; calls
 *       counted.
 *   <li>A public IP gets an address; a private frontend one from its subnet's range.
 * </ul>
 */
public final class ArmFake implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern RESOURCE =
      Pattern.compile(
          "(/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\\.network/"
              + "(loadbalancers|publicipaddresses|networksecuritygroups)/[^/]+"
              + "(?:/securityrules/[^/]+)?)");
  private static final Pattern COLLECTION =
      Pattern.compile(
          "(/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\\.network/"
              + "(loadbalancers|publicipaddresses|networksecuritygroups))");
  // properties ARM sets itself: a client may send them back, and the models do not write them
  private static final Set<String> READ_ONLY =
      Set.of("id", "name", "etag", "type", "provisioningState", "resourceGuid", "ipAddress");

  private final HttpServer server;
  private final String base;
  // lower-cased resource id -> resource as ARM answers it
  private final Map<String, ObjectNode> resources = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> operations = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
  private final AtomicLong etags = new AtomicLong();
  private final AtomicInteger addresses = new AtomicInteger();
  private final AtomicInteger throttleNext = new AtomicInteger();
  private final AtomicInteger failNext = new AtomicInteger();
  private final AtomicInteger preconditionFailures = new AtomicInteger();
  private volatile java.time.Duration writeLatency = java.time.Duration.ZERO;
  private volatile java.util.function.Consumer<ObjectNode> interleave;

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

  /** The next {@code n} requests are answered 429 with {@code Retry-After: 1}. */
  public void throttleNext(int n) {
    throttleNext.set(n);
  }

  /** Every load-balancer PUT takes this long, as ARM's do (about a second on Azure). */
  public void writeLatency(java.time.Duration latency) {
    writeLatency = latency;
  }

  /**
   * Before the next load-balancer PUT is applied, {@code other} changes the stored load balancer as
   * another writer would (its ETag changes): the PUT then fails 412 unless it was made after.
   */
  public void interleave(java.util.function.Consumer<ObjectNode> other) {
    interleave = other;
  }

  /** The next {@code n} writes fail with a 500. */
  public void failNextWrites(int n) {
    failNext.set(n);
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
    return resources.get(id.toLowerCase(Locale.ROOT));
  }

  /** Every resource of {@code type} (e.g. {@code loadBalancers}). */
  public List<JsonNode> all(String type) {
    String t = "/" + type.toLowerCase(Locale.ROOT) + "/";
    List<JsonNode> out = new ArrayList<>();
    new TreeMap<>(resources)
        .forEach(
            (id, r) -> {
              if (id.contains(t) && !id.substring(id.indexOf(t) + t.length()).contains("/")) {
                out.add(r);
              }
            });
    return out;
  }

  /** Puts a resource as another owner made it (a user's public IP, the cluster's NSG). */
  public void seed(String id, String json) throws IOException {
    ObjectNode node = (ObjectNode) JSON.readTree(json);
    node.put("id", id);
    node.put("name", id.substring(id.lastIndexOf('/') + 1));
    node.put("etag", "W/\"" + etags.incrementAndGet() + "\"");
    for (JsonNode rule : node.path("properties").path("securityRules")) {
      String ruleId = id + "/securityRules/" + rule.get("name").asText();
      ((ObjectNode) rule).put("id", ruleId);
      resources.put(ruleId.toLowerCase(Locale.ROOT), (ObjectNode) rule);
    }
    resources.put(id.toLowerCase(Locale.ROOT), node);
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

  private void route(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String lower = path.toLowerCase(Locale.ROOT);
    String method = ex.getRequestMethod();
    if (lower.startsWith("/operations/")) {
      poll(ex, lower);
      return;
    }
    Matcher c = COLLECTION.matcher(lower);
    if (c.matches() && method.equals("GET")) {
      calls.computeIfAbsent("GET " + c.group(2) + " list", k -> new AtomicLong()).incrementAndGet();
      ObjectNode answer = JSON.createObjectNode();
      ArrayNode value = answer.putArray("value");
      new TreeMap<>(resources)
          .forEach(
              (id, r) -> {
                if (id.startsWith(c.group(1) + "/")
                    && !id.substring(c.group(1).length() + 1).contains("/")) {
                  value.add(r);
                }
              });
      send(ex, 200, answer);
      return;
    }
    Matcher m = RESOURCE.matcher(lower);
    if (!m.matches()) {
      error(ex, 404, "NotFound", "no such path " + path);
      return;
    }
    String id = m.group(1);
    String type = id.contains("/securityrules/") ? "securityrules" : m.group(2);
    calls.computeIfAbsent(method + " " + type, k -> new AtomicLong()).incrementAndGet();
    if (throttleNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      ex.getResponseHeaders().set("Retry-After", "1");
      error(ex, 429, "TooManyRequests", "The request is being throttled.");
      return;
    }
    if (!method.equals("GET") && failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      error(ex, 500, "InternalServerError", "An error occurred.");
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
      java.util.function.Consumer<ObjectNode> other = interleave;
      if (other != null && method.equals("PUT") && type.equals("loadbalancers")) {
        interleave = null;
        ObjectNode stored = resources.get(id);
        other.accept(stored);
        stored.put("etag", "W/\"" + etags.incrementAndGet() + "\"");
      }
      ObjectNode existing = resources.get(id);
      switch (method) {
        case "GET" -> {
          if (existing == null) {
            error(ex, 404, "ResourceNotFound", "The Resource '" + path + "' was not found.");
          } else {
            send(ex, 200, existing);
          }
        }
        case "PUT" -> put(ex, path, id, type, existing, body);
        case "DELETE" -> delete(ex, id, existing);
        default -> error(ex, 405, "MethodNotAllowed", method);
      }
    }
  }

  private void put(
      HttpExchange ex, String path, String id, String type, ObjectNode existing, byte[] body)
      throws IOException {
    String ifMatch = ex.getRequestHeaders().getFirst("If-Match");
    String ifNoneMatch = ex.getRequestHeaders().getFirst("If-None-Match");
    if ((ifMatch != null && (existing == null || !ifMatch.equals(existing.get("etag").asText())))
        || ("*".equals(ifNoneMatch) && existing != null)) {
      preconditionFailures.incrementAndGet();
      error(
          ex,
          412,
          "PreconditionFailed",
          "The condition specified using HTTP conditional header(s) is not met.");
      return;
    }
    ObjectNode input = (ObjectNode) JSON.readTree(body);
    JsonSerializable<?> parsed;
    try (JsonReader r = JsonProviders.createReader(body)) {
      parsed =
          switch (type) {
            case "loadbalancers" -> LoadBalancerInner.fromJson(r);
            case "publicipaddresses" -> PublicIpAddressInner.fromJson(r);
            case "networksecuritygroups" -> NetworkSecurityGroupInner.fromJson(r);
            default -> SecurityRuleInner.fromJson(r);
          };
    }
    String unknown = unknownField(input, tree(parsed), "");
    if (unknown != null) {
      error(
          ex,
          400,
          "InvalidRequestFormat",
          "Cannot parse the request. Could not find member '" + unknown + "'.");
      return;
    }
    ObjectNode stored = input.deepCopy();
    stored.put("id", path);
    stored.put("name", path.substring(path.lastIndexOf('/') + 1));
    stored.put("etag", "W/\"" + etags.incrementAndGet() + "\"");
    ObjectNode props = stored.withObject("properties");
    props.put("provisioningState", "Succeeded");
    String problem =
        switch (type) {
          case "loadbalancers" -> loadBalancer(path, stored, existing);
          case "publicipaddresses" -> publicIp(stored, existing);
          case "securityrules" -> securityRule(id, stored);
          default -> null;
        };
    if (problem != null) {
      error(
          ex,
          400,
          problem.substring(0, problem.indexOf(':')),
          problem.substring(problem.indexOf(':') + 2));
      return;
    }
    resources.put(id, stored);
    if (type.equals("securityrules")) {
      // a rule is also listed in its group, as ARM shows it
      String group = id.substring(0, id.indexOf("/securityrules/"));
      ObjectNode nsg = resources.get(group);
      ArrayNode rules = nsg.withObject("properties").withArray("securityRules");
      for (Iterator<JsonNode> it = rules.iterator(); it.hasNext(); ) {
        if (it.next().path("name").asText().equalsIgnoreCase(stored.get("name").asText())) {
          it.remove();
        }
      }
      rules.add(stored);
    }
    String op = "/operations/" + etags.incrementAndGet();
    operations.put(op, new AtomicInteger(1));
    ex.getResponseHeaders().set("Azure-AsyncOperation", base + op + "?api-version=2024-05-01");
    ex.getResponseHeaders().set("Retry-After", "0");
    ObjectNode answer = stored.deepCopy();
    answer.withObject("properties").put("provisioningState", "Updating");
    send(ex, existing == null ? 201 : 200, answer);
  }

  /** Ids for the sub-resources, references checked, private frontends given an address. */
  private String loadBalancer(String id, ObjectNode lb, ObjectNode existing) {
    ObjectNode props = lb.withObject("properties");
    Set<String> ids = new HashSet<>();
    Map<String, String> oldPrivate = new TreeMap<>();
    if (existing != null) {
      for (JsonNode f : existing.path("properties").path("frontendIPConfigurations")) {
        oldPrivate.put(
            f.get("name").asText(), f.path("properties").path("privateIPAddress").asText(""));
      }
    }
    for (String kind :
        List.of(
            "frontendIPConfigurations", "backendAddressPools", "probes", "loadBalancingRules")) {
      for (JsonNode sub : props.path(kind)) {
        String subId = id + "/" + kind + "/" + sub.get("name").asText();
        ((ObjectNode) sub).put("id", subId);
        ((ObjectNode) sub).withObject("properties").put("provisioningState", "Succeeded");
        if (!ids.add(subId.toLowerCase(Locale.ROOT))) {
          return "InvalidRequestFormat: two " + kind + " are named " + sub.get("name").asText();
        }
      }
    }
    for (JsonNode p : props.path("probes")) {
      ObjectNode pp = (ObjectNode) p.path("properties");
      if (!pp.has("probeThreshold")) {
        pp.put("probeThreshold", 1);
      }
    }
    for (JsonNode f : props.path("frontendIPConfigurations")) {
      JsonNode pip = f.path("properties").path("publicIPAddress").path("id");
      if (!pip.isMissingNode() && get(pip.asText()) == null) {
        return "InvalidResourceReference: Resource "
            + pip.asText()
            + " referenced by resource "
            + f.get("id").asText()
            + " was not found.";
      }
      JsonNode subnet = f.path("properties").path("subnet");
      if (!subnet.isMissingNode()) {
        ObjectNode p = (ObjectNode) f.path("properties");
        String kept = oldPrivate.getOrDefault(f.get("name").asText(), "");
        p.put(
            "privateIPAddress",
            !p.path("privateIPAddress").asText("").isEmpty()
                ? p.get("privateIPAddress").asText()
                : kept.isEmpty() ? "10.224.0." + (addresses.incrementAndGet() % 250 + 4) : kept);
      }
    }
    for (JsonNode rule : props.path("loadBalancingRules")) {
      // as ARM answers: defaults the client did not send, and the pool also as a list
      ObjectNode rp = (ObjectNode) rule.path("properties");
      if (!rp.has("enableTcpReset")) {
        rp.put("enableTcpReset", false);
      }
      if (!rp.has("backendAddressPools") && rp.has("backendAddressPool")) {
        rp.putArray("backendAddressPools").add(rp.get("backendAddressPool").deepCopy());
      }
      for (String ref : List.of("frontendIPConfiguration", "backendAddressPool", "probe")) {
        JsonNode target = rule.path("properties").path(ref).path("id");
        if (target.isMissingNode()) {
          if (!ref.equals("probe")) {
            return "InvalidRequestFormat: rule " + rule.get("name").asText() + " has no " + ref;
          }
          continue;
        }
        if (!ids.contains(target.asText().toLowerCase(Locale.ROOT))) {
          return "InvalidResourceReference: Resource "
              + target.asText()
              + " referenced by resource "
              + rule.get("id").asText()
              + " was not found.";
        }
      }
    }
    return null;
  }

  private String publicIp(ObjectNode pip, ObjectNode existing) {
    String kept = existing == null ? "" : existing.path("properties").path("ipAddress").asText("");
    pip.withObject("properties")
        .put(
            "ipAddress",
            kept.isEmpty()
                ? "20.61." + (addresses.incrementAndGet() / 250) + "." + (addresses.get() % 250 + 2)
                : kept);
    return null;
  }

  private String securityRule(String id, ObjectNode rule) {
    String group = id.substring(0, id.indexOf("/securityrules/"));
    ObjectNode nsg = resources.get(group);
    if (nsg == null) {
      return "ResourceNotFound: The network security group " + group + " was not found.";
    }
    JsonNode props = rule.path("properties");
    for (JsonNode other : nsg.path("properties").path("securityRules")) {
      if (!other.get("name").asText().equalsIgnoreCase(rule.get("name").asText())
          && other.path("properties").path("priority").asInt() == props.path("priority").asInt()
          && other
              .path("properties")
              .path("direction")
              .asText()
              .equals(props.path("direction").asText())) {
        return "SecurityRuleConflict: Security rule "
            + other.get("name").asText()
            + " conflicts with rule "
            + rule.get("name").asText()
            + ". Rules cannot have the same Priority and Direction.";
      }
    }
    return null;
  }

  private void delete(HttpExchange ex, String id, ObjectNode existing) throws IOException {
    if (existing == null) {
      ex.sendResponseHeaders(204, -1);
      return;
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
    String op = "/operations/" + etags.incrementAndGet();
    operations.put(op, new AtomicInteger(1));
    ex.getResponseHeaders().set("Location", base + op + "?api-version=2024-05-01");
    ex.getResponseHeaders().set("Retry-After", "0");
    ex.sendResponseHeaders(202, -1);
  }

  private void poll(HttpExchange ex, String path) throws IOException {
    calls.computeIfAbsent("GET operations", k -> new AtomicLong()).incrementAndGet();
    AtomicInteger left = operations.get(path);
    if (left == null) {
      error(ex, 404, "NotFound", "no operation " + path);
      return;
    }
    boolean running = left.getAndDecrement() > 0;
    ex.getResponseHeaders().set("Retry-After", "0");
    ObjectNode status = JSON.createObjectNode().put("status", running ? "InProgress" : "Succeeded");
    send(ex, running ? 202 : 200, status);
  }

  /** A key of {@code input} the model dropped, as a path; null when the model kept all. */
  private static String unknownField(JsonNode input, JsonNode kept, String at) {
    if (input.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = input.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (READ_ONLY.contains(e.getKey())) {
          continue;
        }
        JsonNode other = kept == null ? null : kept.get(e.getKey());
        if (other == null) {
          return at + e.getKey();
        }
        String deeper = unknownField(e.getValue(), other, at + e.getKey() + ".");
        if (deeper != null) {
          return deeper;
        }
      }
    } else if (input.isArray()) {
      for (int i = 0; i < input.size(); i++) {
        String deeper = unknownField(input.get(i), kept.get(i), at + i + ".");
        if (deeper != null) {
          return deeper;
        }
      }
    }
    return null;
  }

  private static JsonNode tree(JsonSerializable<?> model) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonWriter w = JsonProviders.createWriter(out)) {
      model.toJson(w);
    }
    return JSON.readTree(out.toByteArray());
  }

  private static void error(HttpExchange ex, int status, String code, String message)
      throws IOException {
    ObjectNode body = JSON.createObjectNode();
    body.withObject("error").put("code", code).put("message", message);
    send(ex, status, body);
  }

  private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    if (body.has("etag")) {
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
