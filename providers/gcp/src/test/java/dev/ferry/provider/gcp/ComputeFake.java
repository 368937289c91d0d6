package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.HealthCheck;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstanceGroup;
import com.google.cloud.compute.v1.Network;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.Subnetwork;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Message;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.provider.gcp.ComputeDiscovery.Method;
import dev.ferry.provider.gcp.ComputeRules.Refusal;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A fake of the parts of the Compute Engine v1 API a regional passthrough load balancer uses, on
 * the JDK's HTTP server, for the GCP provider's tests (no GCE emulator exists). Built from Google's
 * own description, not from the provider's:
 *
 * <ul>
 *   <li>every request is matched to a method of the published discovery document ({@link
 *       ComputeDiscovery}, revision named there) and its body checked against the method's schema;
 *       a method the document has but the fake does not implement answers 501, loudly;
 *   <li>the documented cross-field and cross-resource rules are {@link ComputeRules}, each citing
 *       its page;
 *   <li>mutations answer {@link Operation}s that go PENDING, RUNNING (for {@link #runningPolls}
 *       polls), DONE; the change takes effect at DONE, and an operation that fails carries
 *       Compute's {@code httpErrorStatusCode} and error code; selfLinks are {@code
 *       https://www.googleapis.com/compute/v1/...} as Compute writes them, whatever the endpoint;
 *   <li>lists page ({@code maxResults}, {@code nextPageToken}; {@link #pageSize} makes pages small)
 *       and honour the {@code filter} expressions Compute documents for {@code =}, {@code !=},
 *       {@code eq} and {@code ne}; any other filter is a 400, never ignored;
 *   <li>regions have their zones whether or not anything is in them; networks and subnetworks.
 * </ul>
 *
 * <p>{@link GkeProject} seeds it as a GKE cluster's project; {@link Exposure} computes what its
 * firewalls open.
 */
public final class ComputeFake implements AutoCloseable {

  /** How Compute writes links, whatever endpoint was called. */
  static final String GOOGLEAPIS = "https://www.googleapis.com/compute/v1/";

  static final Map<String, Supplier<Message.Builder>> KINDS =
      Map.of(
          "addresses", Address::newBuilder,
          "forwardingRules", ForwardingRule::newBuilder,
          "backendServices", BackendService::newBuilder,
          "healthChecks", HealthCheck::newBuilder,
          "firewalls", Firewall::newBuilder,
          "instanceGroups", InstanceGroup::newBuilder,
          "instances", Instance::newBuilder,
          "networks", Network::newBuilder,
          "subnetworks", Subnetwork::newBuilder);

  private final HttpServer server;
  private final String base;
  final ComputeDiscovery discovery = ComputeDiscovery.get();
  final ComputeOperations ops = new ComputeOperations(this);
  private final ComputeMethods methods = new ComputeMethods(this, ops);
  final ComputeRules rules = new ComputeRules(this);
  // relative link (projects/...) -> resource; guarded by this
  final Map<String, Message> resources = new TreeMap<>();
  // instance group link -> instance links; guarded by this
  final Map<String, List<String>> members = new HashMap<>();
  // region link (projects/p/regions/r) -> its zones
  final Map<String, List<String>> zones = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
  // every mutating request: "METHOD path requestId" (requestId "-" when none was sent)
  private final List<String> mutations = java.util.Collections.synchronizedList(new ArrayList<>());
  volatile Runnable beforeNextAddInstances;
  final AtomicLong ids = new AtomicLong(4_000_000_000_000_000_000L);
  private final AtomicInteger throttleNext = new AtomicInteger();
  private final AtomicInteger throttleNextMutation = new AtomicInteger();
  private final AtomicInteger denyNext = new AtomicInteger();
  final AtomicInteger addressesGiven = new AtomicInteger();
  volatile int pageSize = 500;

  public ComputeFake() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.createContext("/", this::handle);
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The endpoint to give the clients ({@code setEndpoint}). */
  public String endpoint() {
    return base;
  }

  /** The discovery document's revision the fake validates against. */
  public String discoveryRevision() {
    return discovery.revision();
  }

  /** Later operations answer PENDING, then RUNNING for {@code polls} polls, then DONE. */
  public void runningPolls(int polls) {
    ops.runningPolls = polls;
  }

  /** Operations nobody polls end after {@code d} (400 ms unless set). */
  public void settleAfter(java.time.Duration d) {
    ops.settleNanos = d.toNanos();
  }

  /** Lists answer at most {@code n} items a page (Compute's default and maximum is 500). */
  public void pageSize(int n) {
    pageSize = n;
  }

  /** The next {@code n} requests fail as Compute answers a spent rate budget. */
  public void throttleNext(int n) {
    throttleNext.set(n);
  }

  /** The next {@code n} mutating requests fail as Compute answers a spent rate budget. */
  void throttleNextMutation(int n) {
    throttleNextMutation.set(n);
  }

  /** The next {@code n} requests fail as Compute answers an identity missing a permission. */
  void denyNext(int n) {
    denyNext.set(n);
  }

  /** The next mutation's operation ends DONE with this error and changes nothing. */
  void failNextOperation(int httpStatus, String code, String message) {
    ops.failNext = new Refusal(httpStatus, code, message, true);
  }

  /** Every mutating request so far, as {@code METHOD path requestId} ({@code -} for none). */
  public List<String> mutations() {
    synchronized (mutations) {
      return List.copyOf(mutations);
    }
  }

  /** Runs {@code r} (another writer's change) just before the next addInstances is handled. */
  void beforeNextAddInstances(Runnable r) {
    beforeNextAddInstances = r;
  }

  /** A region and its zones (Compute's region has them whether or not anything is in them). */
  public void region(String project, String region, List<String> zoneNames) {
    zones.put("projects/" + project + "/regions/" + region, List.copyOf(zoneNames));
  }

  /** Puts a resource as the cloud would have it, made outside the code under test. */
  public synchronized <T extends Message> T put(String link, T resource) {
    Message.Builder b = resource.toBuilder();
    ComputeAnswers.set(b, "self_link", GOOGLEAPIS + link);
    ComputeAnswers.set(b, "name", last(link));
    if (!b.hasField(ComputeAnswers.field(b, "id"))) {
      ComputeAnswers.set(b, "id", ids.incrementAndGet());
    }
    @SuppressWarnings("unchecked")
    T built = (T) b.build();
    resources.put(link, built);
    return built;
  }

  /** Makes {@code instances} members of the group at {@code groupLink} (outside the code). */
  public synchronized void addMembers(String groupLink, List<String> instances) {
    List<String> next = new ArrayList<>(members.getOrDefault(relative(groupLink), List.of()));
    instances.forEach(i -> next.add(relative(i)));
    members.put(relative(groupLink), List.copyOf(next));
  }

  /** Adds a VM as the cloud would have it (instances are not made through this fake). */
  public String addInstance(String project, String zone, String name, String... networkTags) {
    Instance.Builder vm =
        Instance.newBuilder()
            .setZone(GOOGLEAPIS + "projects/" + project + "/zones/" + zone)
            .setStatus("RUNNING");
    vm.getTagsBuilder().addAllItems(List.of(networkTags));
    String link = "projects/" + project + "/zones/" + zone + "/instances/" + name;
    put(link, vm.build());
    return GOOGLEAPIS + link;
  }

  /** Requests so far by {@code METHOD collection[/verb]}, e.g. {@code POST forwardingRules}. */
  public Map<String, Long> calls() {
    Map<String, Long> out = new TreeMap<>();
    calls.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  /**
   * Ferry's resources of {@code collection} (named {@code ferry-…}): the project's own, GKE's and
   * the user's, left out.
   */
  public <T extends Message> List<T> ferrys(String collection, Class<T> type) {
    return all(collection).stream()
        .map(type::cast)
        .filter(
            m ->
                ((String) m.getField(m.getDescriptorForType().findFieldByName("name")))
                    .startsWith("ferry-"))
        .toList();
  }

  /** The resources of {@code collection} (e.g. {@code forwardingRules}) in every scope. */
  public synchronized List<Message> all(String collection) {
    List<Message> out = new ArrayList<>();
    resources.forEach(
        (link, m) -> {
          if (link.matches("projects/[^/]+/[^/]+(/[^/]+)?/" + collection + "/[^/]+")) {
            out.add(m);
          }
        });
    return out;
  }

  /** The instances in a group, by selfLink. */
  public synchronized List<String> membersOf(String groupLink) {
    return members.getOrDefault(relative(groupLink), List.of()).stream()
        .map(l -> GOOGLEAPIS + l)
        .toList();
  }

  /** The resource at {@code link} (a full URL or {@code projects/...}), or null. */
  public synchronized Message get(String link) {
    return resources.get(relative(link));
  }

  /** A link as Compute takes it (full, on any host, or {@code projects/...}) made relative. */
  static String relative(String link) {
    int at = link.indexOf("projects/");
    return at < 0 ? link : link.substring(at);
  }

  static String last(String link) {
    return link.substring(link.lastIndexOf('/') + 1);
  }

  // --- HTTP ---

  private void handle(HttpExchange ex) throws IOException {
    try {
      route(ex);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      ComputeAnswers.error(
          ex, new Refusal(400, "invalid", "Invalid JSON payload received. " + e.getMessage()));
    } catch (RuntimeException e) {
      ComputeAnswers.error(ex, new Refusal(500, "backendError", e.toString()));
    } finally {
      ex.close();
    }
  }

  private void route(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String httpMethod = ex.getRequestMethod();
    Optional<Method> found = discovery.method(httpMethod, path);
    if (found.isEmpty()) {
      ComputeAnswers.error(
          ex, new Refusal(404, "notFound", "The requested URL " + path + " was not found"));
      return;
    }
    Method m = found.get();
    ops.settle();
    count(httpMethod + " " + collection(m) + (isVerb(m) ? "/" + m.verb() : ""));
    if (!httpMethod.equals("GET") && !m.verb().equals("listInstances")) {
      mutations.add(httpMethod + " " + path + " " + query(ex).getOrDefault("requestId", "-"));
    }
    boolean mutating = !httpMethod.equals("GET") && !m.verb().equals("listInstances");
    if (throttleNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0
        || (mutating && throttleNextMutation.getAndUpdate(n -> Math.max(0, n - 1)) > 0)) {
      ComputeAnswers.error(ex, new Refusal(403, "rateLimitExceeded", "Rate Limit Exceeded"));
      return;
    }
    if (denyNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      ComputeAnswers.error(
          ex,
          new Refusal(
              403,
              "forbidden",
              "Required '" + m.id().replace(".insert", ".create") + "' permission for '" + path));
      return;
    }
    Map<String, String> query = query(ex);
    if (m.verb().equals("addInstances") && beforeNextAddInstances != null) {
      Runnable r = beforeNextAddInstances;
      beforeNextAddInstances = null;
      r.run();
    }
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    JsonElement json = body.isBlank() ? new JsonObject() : JsonParser.parseString(body);
    boolean insert = m.verb().equals("insert");
    String invalid = discovery.invalid(m, json, insert);
    if (invalid != null) {
      ComputeAnswers.error(ex, new Refusal(400, "invalid", invalid));
      return;
    }
    String link = path.substring("/compute/v1/".length());
    if (isVerb(m)) {
      link = link.substring(0, link.lastIndexOf('/'));
    }
    String scope = scopeOf(m, link);
    synchronized (this) {
      switch (m.verb()) {
        case "get" -> methods.get(ex, m, link);
        case "list" -> methods.list(ex, link, query);
        case "insert" -> methods.insert(ex, m, link, scope, json, query);
        case "delete" -> methods.delete(ex, link, scope, query);
        case "update", "patch" -> methods.update(ex, m, link, scope, json, query);
        case "setLabels" -> methods.setLabels(ex, link, scope, json, query);
        case "addInstances", "removeInstances" ->
            methods.membership(ex, m, link, scope, body, query);
        case "listInstances" -> methods.listInstances(ex, link, query);
        default ->
            ComputeAnswers.error(
                ex,
                new Refusal(
                    501, "notImplemented", "the Compute fake does not implement " + m.id()));
      }
    }
  }

  private static boolean isVerb(Method m) {
    return !Set.of("get", "list", "insert", "delete", "update", "patch").contains(m.verb());
  }

  /**
   * The URL collection a method works on: {@code regionBackendServices} is {@code backendServices}.
   */
  private static String collection(Method m) {
    String r = m.resource();
    if (r.endsWith("Operations")) {
      return "operations";
    }
    if (r.startsWith("region") && !r.equals("regions")) {
      return Character.toLowerCase(r.charAt(6)) + r.substring(7);
    }
    return r;
  }

  /** The scope link (project, region or zone) a method's resource lives in. */
  static String scopeOf(Method m, String link) {
    String project = "projects/" + m.param("project");
    if (m.param("zone") != null) {
      return project + "/zones/" + m.param("zone");
    }
    if (m.param("region") != null && !m.resource().equals("regions")) {
      return project + "/regions/" + m.param("region");
    }
    return project + "/global";
  }

  static Map<String, String> query(HttpExchange ex) {
    Map<String, String> out = new HashMap<>();
    String q = ex.getRequestURI().getRawQuery();
    if (q != null) {
      for (String pair : q.split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          out.put(
              pair.substring(0, eq),
              URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
      }
    }
    return out;
  }

  private void count(String key) {
    calls.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
