package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.Error;
import com.google.cloud.compute.v1.Errors;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.HealthCheck;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstanceGroup;
import com.google.cloud.compute.v1.InstanceGroupsAddInstancesRequest;
import com.google.cloud.compute.v1.InstanceGroupsRemoveInstancesRequest;
import com.google.cloud.compute.v1.InstanceReference;
import com.google.cloud.compute.v1.Network;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.RegionSetLabelsRequest;
import com.google.cloud.compute.v1.Subnetwork;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
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
import java.util.LinkedHashMap;
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

  private static final Map<String, Supplier<Message.Builder>> KINDS =
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
  private final ComputeDiscovery discovery = ComputeDiscovery.get();
  final ComputeRules rules = new ComputeRules(this);
  // relative link (projects/...) -> resource; guarded by this
  final Map<String, Message> resources = new TreeMap<>();
  // instance group link -> instance links; guarded by this
  final Map<String, List<String>> members = new HashMap<>();
  // region link (projects/p/regions/r) -> its zones
  private final Map<String, List<String>> zones = new ConcurrentHashMap<>();
  private final Map<String, Pending> operations = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
  private final Map<String, String> requestIds = new ConcurrentHashMap<>();
  // every mutating request: "METHOD path requestId" (requestId "-" when none was sent)
  private final List<String> mutations = java.util.Collections.synchronizedList(new ArrayList<>());
  private volatile Runnable beforeNextAddInstances;
  final AtomicLong ids = new AtomicLong(4_000_000_000_000_000_000L);
  private final AtomicInteger throttleNext = new AtomicInteger();
  private final AtomicInteger throttleNextMutation = new AtomicInteger();
  private final AtomicInteger denyNext = new AtomicInteger();
  private final AtomicInteger addressesGiven = new AtomicInteger();
  private volatile int runningPolls;
  private volatile int pageSize = 500;
  private volatile Refusal failNextOperation;

  private static final class Pending {
    Operation op;
    final Runnable change;
    int polls;
    final long settlesAt = System.nanoTime() + SETTLE_NANOS;

    Pending(Operation op, Runnable change, int polls) {
      this.op = op;
      this.change = change;
      this.polls = polls;
    }

    void finish() {
      change.run(); // the change takes effect when the operation is done
      op = op.toBuilder().setStatus(Operation.Status.DONE).setProgress(100).build();
    }
  }

  /**
   * An operation nobody polls still ends, as Compute's do (a client that crashed after its request
   * does not stop the change): at the next request after this long.
   */
  private static final long SETTLE_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(400);

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
    runningPolls = polls;
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
    failNextOperation = new Refusal(httpStatus, code, message, true);
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
    set(b, "self_link", GOOGLEAPIS + link);
    set(b, "name", last(link));
    if (!b.hasField(field(b, "id"))) {
      set(b, "id", ids.incrementAndGet());
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
      error(ex, new Refusal(400, "invalid", "Invalid JSON payload received. " + e.getMessage()));
    } catch (RuntimeException e) {
      error(ex, new Refusal(500, "backendError", e.toString()));
    } finally {
      ex.close();
    }
  }

  private void route(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String httpMethod = ex.getRequestMethod();
    Optional<Method> found = discovery.method(httpMethod, path);
    if (found.isEmpty()) {
      error(ex, new Refusal(404, "notFound", "The requested URL " + path + " was not found"));
      return;
    }
    Method m = found.get();
    settle();
    count(httpMethod + " " + collection(m) + (isVerb(m) ? "/" + m.verb() : ""));
    if (!httpMethod.equals("GET") && !m.verb().equals("listInstances")) {
      mutations.add(httpMethod + " " + path + " " + query(ex).getOrDefault("requestId", "-"));
    }
    boolean mutating = !httpMethod.equals("GET") && !m.verb().equals("listInstances");
    if (throttleNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0
        || (mutating && throttleNextMutation.getAndUpdate(n -> Math.max(0, n - 1)) > 0)) {
      error(ex, new Refusal(403, "rateLimitExceeded", "Rate Limit Exceeded"));
      return;
    }
    if (denyNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      error(
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
      error(ex, new Refusal(400, "invalid", invalid));
      return;
    }
    String link = path.substring("/compute/v1/".length());
    if (isVerb(m)) {
      link = link.substring(0, link.lastIndexOf('/'));
    }
    String scope = scopeOf(m, link);
    synchronized (this) {
      switch (m.verb()) {
        case "get" -> get(ex, m, link);
        case "list" -> list(ex, link, query);
        case "insert" -> insert(ex, m, link, scope, json, query);
        case "delete" -> delete(ex, link, scope, query);
        case "update", "patch" -> update(ex, m, link, scope, json, query);
        case "setLabels" -> setLabels(ex, link, scope, json, query);
        case "addInstances", "removeInstances" -> membership(ex, m, link, scope, body, query);
        case "listInstances" -> listInstances(ex, link, query);
        default ->
            error(
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
  private static String scopeOf(Method m, String link) {
    String project = "projects/" + m.param("project");
    if (m.param("zone") != null) {
      return project + "/zones/" + m.param("zone");
    }
    if (m.param("region") != null && !m.resource().equals("regions")) {
      return project + "/regions/" + m.param("region");
    }
    return project + "/global";
  }

  private static Map<String, String> query(HttpExchange ex) {
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

  // --- methods ---

  private void get(HttpExchange ex, Method m, String link) throws IOException {
    if (m.resource().equals("regions")) {
      List<String> z = zones.get(link);
      if (z == null) {
        notFound(ex, link);
        return;
      }
      JsonObject region = new JsonObject();
      region.addProperty("kind", "compute#region");
      region.addProperty("name", last(link));
      region.addProperty("selfLink", GOOGLEAPIS + link);
      region.addProperty("status", "UP");
      JsonArray links = new JsonArray();
      String project = link.substring(0, link.indexOf("/regions/"));
      z.forEach(zone -> links.add(GOOGLEAPIS + project + "/zones/" + zone));
      region.add("zones", links);
      sendJson(ex, 200, region.toString());
      return;
    }
    if (m.resource().endsWith("Operations")) {
      operation(ex, link);
      return;
    }
    Message found = resources.get(link);
    if (found == null) {
      notFound(ex, link);
    } else {
      send(ex, 200, found);
    }
  }

  private void list(HttpExchange ex, String collectionLink, Map<String, String> query)
      throws IOException {
    ListFilter filter;
    try {
      filter = ListFilter.parse(query.getOrDefault("filter", ""));
    } catch (IllegalArgumentException e) {
      error(ex, new Refusal(400, "invalid", "Invalid value for field 'filter': " + e.getMessage()));
      return;
    }
    List<JsonObject> items = new ArrayList<>();
    for (Map.Entry<String, Message> e : resources.entrySet()) {
      String k = e.getKey();
      if (k.startsWith(collectionLink + "/") && k.indexOf('/', collectionLink.length() + 1) < 0) {
        JsonObject item = JsonParser.parseString(print(e.getValue())).getAsJsonObject();
        if (filter.matches(item)) {
          items.add(item);
        }
      }
    }
    page(ex, "compute#" + last(collectionLink) + "List", collectionLink, items, query);
  }

  private void page(
      HttpExchange ex, String kind, String link, List<JsonObject> items, Map<String, String> query)
      throws IOException {
    int size = Math.min(pageSize, Integer.parseInt(query.getOrDefault("maxResults", "500")));
    int from = query.containsKey("pageToken") ? Integer.parseInt(query.get("pageToken")) : 0;
    JsonObject out = new JsonObject();
    out.addProperty("kind", kind);
    out.addProperty("id", GOOGLEAPIS + link);
    JsonArray page = new JsonArray();
    items.subList(from, Math.min(items.size(), from + size)).forEach(page::add);
    out.add("items", page);
    if (from + size < items.size()) {
      out.addProperty("nextPageToken", String.valueOf(from + size));
    }
    out.addProperty("selfLink", GOOGLEAPIS + link);
    sendJson(ex, 200, out.toString());
  }

  private void insert(
      HttpExchange ex,
      Method m,
      String collectionLink,
      String scope,
      JsonElement json,
      Map<String, String> query)
      throws IOException {
    String collection = last(collectionLink);
    Message.Builder b = KINDS.get(collection).get();
    JsonFormat.parser().merge(json.toString(), b);
    String link = collectionLink + "/" + b.getField(field(b, "name"));
    if (replayed(ex, query, link)) {
      return;
    }
    if (resources.containsKey(link) || pendingFor(link)) {
      error(
          ex,
          new Refusal(409, "alreadyExists", "The resource '" + link + "' already exists", false));
      return;
    }
    set(b, "self_link", GOOGLEAPIS + link);
    set(b, "id", ids.incrementAndGet());
    set(b, "creation_timestamp", "2026-11-23T00:00:00.000-08:00");
    if (field(b, "region") != null && scope.contains("/regions/")) {
      set(b, "region", GOOGLEAPIS + scope);
    }
    if (field(b, "fingerprint") != null) {
      set(b, "fingerprint", fingerprint());
    }
    if (field(b, "label_fingerprint") != null) {
      set(b, "label_fingerprint", fingerprint());
    }
    Refusal refused = rules.refuseInsert(m, link, rules.normalize(b.build()));
    if (refused != null && !refused.inOperation()) {
      error(ex, refused);
      return;
    }
    if (b instanceof Address.Builder a && !a.hasAddress()) {
      int n = addressesGiven.incrementAndGet();
      a.setAddress(
          a.getAddressType().equals("INTERNAL")
              ? "10.132.1." + (n % 250 + 2)
              : (a.getNetworkTier().equals("STANDARD") ? "35.206." : "34.118.")
                  + (n / 250)
                  + "."
                  + (n % 250 + 2));
      a.setStatus("RESERVED");
      if (!a.hasNetworkTier() && !a.getAddressType().equals("INTERNAL")) {
        a.setNetworkTier("PREMIUM");
      }
    }
    Message resource = rules.normalize(b.build());
    operation(ex, scope, "insert", link, refused, () -> resources.put(link, resource));
  }

  private void delete(HttpExchange ex, String link, String scope, Map<String, String> query)
      throws IOException {
    if (replayed(ex, query, link)) {
      return;
    }
    if (!resources.containsKey(link)) {
      notFound(ex, link);
      return;
    }
    Refusal refused = rules.refuseDelete(link);
    if (refused != null && !refused.inOperation()) {
      error(ex, refused);
      return;
    }
    // an operation acts on the resource it was asked about: a late one never touches a new
    // resource of the same name
    Message target = resources.get(link);
    operation(
        ex,
        scope,
        "delete",
        link,
        refused,
        () -> {
          if (resources.remove(link, target)) {
            members.remove(link);
          }
        });
  }

  /** PUT replaces, PATCH merges; a resource with a fingerprint needs the current one (412). */
  private void update(
      HttpExchange ex,
      Method m,
      String link,
      String scope,
      JsonElement json,
      Map<String, String> query)
      throws IOException {
    if (replayed(ex, query, link)) {
      return;
    }
    Message existing = resources.get(link);
    if (existing == null) {
      notFound(ex, link);
      return;
    }
    Message.Builder change = existing.newBuilderForType();
    JsonFormat.parser().merge(json.toString(), change);
    Message.Builder b =
        m.verb().equals("patch") ? existing.toBuilder() : existing.newBuilderForType();
    change.getAllFields().forEach(b::setField);
    String schema = existing.getDescriptorForType().getName();
    for (String out : discovery.outputOnly(schema)) {
      var f =
          existing.getDescriptorForType().getFields().stream()
              .filter(d -> d.getJsonName().equals(out))
              .findFirst();
      if (f.isEmpty()) {
        continue;
      }
      if (present(change, f.get())
          && !change.getField(f.get()).equals(existing.getField(f.get()))) {
        error(
            ex,
            new Refusal(
                400,
                "invalid",
                "Invalid value for field 'resource." + out + "': the field is output only."));
        return;
      }
      if (present(existing, f.get())) {
        b.setField(f.get(), existing.getField(f.get()));
      }
    }
    var fingerprint = field(b, "fingerprint");
    if (fingerprint != null && existing.hasField(fingerprint)) {
      if (!existing.getField(fingerprint).equals(change.getField(fingerprint))) {
        error(
            ex,
            new Refusal(
                412,
                "conditionNotMet",
                "Supplied fingerprint does not match current metadata fingerprint.",
                false));
        return;
      }
      b.setField(fingerprint, fingerprint());
    }
    b.setField(field(b, "name"), existing.getField(field(b, "name")));
    Message resource = rules.normalize(b.build());
    Refusal refused = rules.refuseUpdate(link, existing, resource);
    if (refused != null && !refused.inOperation()) {
      error(ex, refused);
      return;
    }
    operation(
        ex, scope, m.verb(), link, refused, () -> resources.replace(link, existing, resource));
  }

  /** {@code setLabels}: the only way to label an address or a forwarding rule. */
  private void setLabels(
      HttpExchange ex, String link, String scope, JsonElement json, Map<String, String> query)
      throws IOException {
    if (replayed(ex, query, link)) {
      return;
    }
    Message existing = resources.get(link);
    if (existing == null) {
      notFound(ex, link);
      return;
    }
    RegionSetLabelsRequest.Builder req = RegionSetLabelsRequest.newBuilder();
    JsonFormat.parser().merge(json.toString(), req);
    Message.Builder b = existing.toBuilder();
    if (!req.getLabelFingerprint().equals(b.getField(field(b, "label_fingerprint")))) {
      // https://cloud.google.com/compute/docs/labeling-resources#updating_labels: the current
      // fingerprint is required, a stale one is refused
      error(
          ex,
          new Refusal(
              412,
              "conditionNotMet",
              "Labels fingerprint either invalid or resource labels have changed",
              false));
      return;
    }
    Refusal refused = ComputeRules.invalidLabels(req.getLabelsMap());
    if (refused != null) {
      error(ex, refused);
      return;
    }
    b.clearField(field(b, "labels"));
    if (b instanceof ForwardingRule.Builder r) {
      r.putAllLabels(req.getLabelsMap());
    } else if (b instanceof Address.Builder a) {
      a.putAllLabels(req.getLabelsMap());
    }
    set(b, "label_fingerprint", fingerprint());
    Message resource = b.build();
    operation(
        ex, scope, "setLabels", link, null, () -> resources.replace(link, existing, resource));
  }

  private void membership(
      HttpExchange ex, Method m, String link, String scope, String body, Map<String, String> query)
      throws IOException {
    if (replayed(ex, query, link)) {
      return;
    }
    if (!resources.containsKey(link)) {
      notFound(ex, link);
      return;
    }
    List<String> given = new ArrayList<>();
    Message group = resources.get(link);
    if (m.verb().equals("addInstances")) {
      InstanceGroupsAddInstancesRequest.Builder req =
          InstanceGroupsAddInstancesRequest.newBuilder();
      JsonFormat.parser().merge(body, req);
      req.getInstancesList().stream().map(InstanceReference::getInstance).forEach(given::add);
      Refusal refused = rules.refuseAddInstances(link, given);
      if (refused != null && !refused.inOperation()) {
        error(ex, refused);
        return;
      }
      operation(
          ex,
          scope,
          "addInstances",
          link,
          refused,
          () -> {
            if (resources.get(link) != group) {
              return; // the group it was asked about is gone
            }
            List<String> next = new ArrayList<>(members.getOrDefault(link, List.of()));
            given.forEach(i -> next.add(relative(i)));
            members.put(link, List.copyOf(next));
          });
    } else {
      InstanceGroupsRemoveInstancesRequest.Builder req =
          InstanceGroupsRemoveInstancesRequest.newBuilder();
      JsonFormat.parser().merge(body, req);
      req.getInstancesList().stream().map(InstanceReference::getInstance).forEach(given::add);
      operation(
          ex,
          scope,
          "removeInstances",
          link,
          null,
          () -> {
            if (resources.get(link) != group) {
              return;
            }
            List<String> next = new ArrayList<>(members.getOrDefault(link, List.of()));
            given.forEach(i -> next.remove(relative(i)));
            members.put(link, List.copyOf(next));
          });
    }
  }

  private void listInstances(HttpExchange ex, String link, Map<String, String> query)
      throws IOException {
    if (!resources.containsKey(link)) {
      notFound(ex, link);
      return;
    }
    List<JsonObject> items = new ArrayList<>();
    for (String i : members.getOrDefault(link, List.of())) {
      JsonObject item = new JsonObject();
      item.addProperty("instance", GOOGLEAPIS + i);
      item.addProperty("status", "RUNNING");
      items.add(item);
    }
    page(ex, "compute#instanceGroupsListInstances", link, items, query);
  }

  // --- operations ---

  /** A retried request with the same {@code requestId} answers the first one's operation. */
  private boolean replayed(HttpExchange ex, Map<String, String> query, String link)
      throws IOException {
    String id = query.get("requestId");
    if (id == null) {
      return false;
    }
    String op = requestIds.get(id + " " + link);
    if (op == null) {
      return false;
    }
    send(ex, 200, operations.get(op).op);
    return true;
  }

  /** Ends the operations that have run their time, polled or not. */
  private synchronized void settle() {
    long now = System.nanoTime();
    for (Pending p : operations.values()) {
      if (p.op.getStatus() != Operation.Status.DONE && now - p.settlesAt > 0) {
        p.finish();
      }
    }
  }

  private boolean pendingFor(String link) {
    return operations.values().stream()
        .anyMatch(
            p ->
                p.op.getStatus() != Operation.Status.DONE
                    && relative(p.op.getTargetLink()).equals(link)
                    && p.op.getOperationType().equals("insert"));
  }

  private void operation(
      HttpExchange ex, String scope, String type, String target, Refusal refused, Runnable change)
      throws IOException {
    long id = ids.incrementAndGet();
    String name = "operation-" + id + "-" + Long.toHexString(id * 31);
    String link = scope + "/operations/" + name;
    Refusal failure = refused;
    if (failure == null) {
      failure = failNextOperation;
      failNextOperation = null;
    }
    Operation.Builder op =
        Operation.newBuilder()
            .setKind("compute#operation")
            .setId(id)
            .setName(name)
            .setOperationType(type)
            .setTargetLink(GOOGLEAPIS + target)
            .setSelfLink(GOOGLEAPIS + link)
            .setInsertTime("2026-11-23T00:00:00.000-08:00")
            .setProgress(0);
    if (scope.contains("/regions/")) {
      op.setRegion(GOOGLEAPIS + scope);
    } else if (scope.contains("/zones/")) {
      op.setZone(GOOGLEAPIS + scope);
    }
    Refusal f = failure;
    Runnable finish = f == null ? change : () -> {}; // a failed operation changes nothing
    Pending p = new Pending(null, finish, runningPolls);
    if (f != null) {
      op.setError(
              Error.newBuilder()
                  .addErrors(Errors.newBuilder().setCode(f.reason()).setMessage(f.message())))
          .setHttpErrorStatusCode(f.status())
          .setHttpErrorMessage(httpMessage(f.status()));
    }
    String requestKey = requestIdOf(ex);
    if (requestKey != null) {
      requestIds.put(requestKey + " " + target, link);
    }
    if (p.polls <= 0) {
      finish.run();
      op.setStatus(Operation.Status.DONE).setProgress(100);
    } else {
      op.setStatus(Operation.Status.PENDING);
    }
    p.op = op.build();
    operations.put(link, p);
    send(ex, 200, p.op);
  }

  private static String requestIdOf(HttpExchange ex) {
    return query(ex).get("requestId");
  }

  private synchronized void operation(HttpExchange ex, String link) throws IOException {
    Pending p = operations.get(link);
    if (p == null) {
      notFound(ex, link);
      return;
    }
    if (p.op.getStatus() != Operation.Status.DONE) {
      if (p.op.getStatus() == Operation.Status.PENDING || p.polls > 1) {
        if (p.op.getStatus() == Operation.Status.RUNNING) {
          p.polls--;
        }
        p.op = p.op.toBuilder().setStatus(Operation.Status.RUNNING).setProgress(50).build();
      } else {
        p.finish();
      }
    }
    send(ex, 200, p.op);
  }

  private static String httpMessage(int status) {
    return switch (status) {
      case 400 -> "BAD REQUEST";
      case 403 -> "FORBIDDEN";
      case 404 -> "NOT FOUND";
      case 409 -> "CONFLICT";
      case 412 -> "PRECONDITION FAILED";
      default -> "ERROR";
    };
  }

  private String fingerprint() {
    return java.util.Base64.getEncoder()
        .encodeToString(Long.toHexString(ids.incrementAndGet()).getBytes(StandardCharsets.UTF_8));
  }

  // --- answers ---

  private static boolean present(
      com.google.protobuf.MessageOrBuilder m, com.google.protobuf.Descriptors.FieldDescriptor f) {
    return f.isRepeated() ? m.getRepeatedFieldCount(f) > 0 : m.hasField(f);
  }

  static com.google.protobuf.Descriptors.FieldDescriptor field(Message.Builder b, String name) {
    return b.getDescriptorForType().findFieldByName(name);
  }

  private static void set(Message.Builder b, String name, Object value) {
    var f = field(b, name);
    if (f != null) {
      b.setField(f, value);
    }
  }

  static String print(Message m) {
    try {
      return JsonFormat.printer().print(m);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void notFound(HttpExchange ex, String link) throws IOException {
    error(ex, new Refusal(404, "notFound", "The resource '" + link + "' was not found"));
  }

  private static void send(HttpExchange ex, int status, Message m) throws IOException {
    sendJson(ex, status, print(m));
  }

  private static void error(HttpExchange ex, Refusal r) throws IOException {
    JsonObject detail = new JsonObject();
    detail.addProperty("domain", "global");
    detail.addProperty("reason", r.reason());
    detail.addProperty("message", r.message());
    JsonArray errors = new JsonArray();
    errors.add(detail);
    JsonObject error = new JsonObject();
    error.addProperty("code", r.status());
    error.addProperty("message", r.message());
    error.add("errors", errors);
    JsonObject out = new JsonObject();
    out.add("error", error);
    sendJson(ex, r.status(), out.toString());
  }

  private static void sendJson(HttpExchange ex, int status, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
  }

  @Override
  public void close() {
    server.stop(0);
  }

  /** Compute's list filter: {@code field = "value"}, {@code !=}, {@code eq} / {@code ne} (RE2). */
  record ListFilter(Map<String, String[]> terms) {
    private static final java.util.regex.Pattern TERM =
        java.util.regex.Pattern.compile(
            "\\(?\\s*([A-Za-z][A-Za-z0-9_.\\-]*)\\s*(=|!=|\\beq\\b|\\bne\\b)\\s*"
                + "(\"[^\"]*\"|[^\\s()\"]+)\\s*\\)?");

    static ListFilter parse(String text) {
      Map<String, String[]> terms = new LinkedHashMap<>();
      String rest = text.trim();
      while (!rest.isEmpty()) {
        java.util.regex.Matcher m = TERM.matcher(rest);
        if (!m.lookingAt()) {
          throw new IllegalArgumentException("'" + text + "' is not a filter the fake knows");
        }
        String value = m.group(3);
        if (value.startsWith("\"")) {
          value = value.substring(1, value.length() - 1);
        }
        terms.put(m.group(1) + "#" + terms.size(), new String[] {m.group(2), value});
        rest = rest.substring(m.end()).trim();
        if (rest.startsWith("AND ")) {
          rest = rest.substring(4).trim();
        }
      }
      return new ListFilter(terms);
    }

    boolean matches(JsonObject item) {
      for (Map.Entry<String, String[]> t : terms.entrySet()) {
        String path = t.getKey().substring(0, t.getKey().indexOf('#'));
        JsonElement v = item;
        for (String part : path.split("\\.")) {
          v = v != null && v.isJsonObject() ? v.getAsJsonObject().get(part) : null;
        }
        String have = v == null || !v.isJsonPrimitive() ? "" : v.getAsString();
        String op = t.getValue()[0];
        String want = t.getValue()[1];
        boolean hit =
            switch (op) {
              case "=", "!=" -> have.equals(want);
              default -> have.matches(want);
            };
        if (hit == (op.equals("!=") || op.equals("ne"))) {
          return false;
        }
      }
      return true;
    }
  }
}
