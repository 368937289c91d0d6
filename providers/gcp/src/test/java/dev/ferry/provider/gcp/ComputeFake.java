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
import com.google.cloud.compute.v1.InstanceGroupsListInstances;
import com.google.cloud.compute.v1.InstanceGroupsRemoveInstancesRequest;
import com.google.cloud.compute.v1.InstanceReference;
import com.google.cloud.compute.v1.InstanceWithNamedPorts;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.Region;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A faithful fake of the parts of the Compute Engine API a regional network load balancer uses, on
 * the JDK's HTTP server, for the GCP provider's tests (no GCE emulator exists).
 *
 * <ul>
 *   <li>Every request body is parsed into the vendor's own {@code com.google.cloud.compute.v1}
 *       message class with protobuf's strict {@link JsonFormat} parser (an unknown field is a 400),
 *       and every answer is printed with {@link JsonFormat#printer()}.
 *   <li>State per project, region and zone: regional addresses, forwarding rules, backend services
 *       and health checks; global firewalls; zonal instance groups and instances. A missing
 *       resource is a 404, a duplicate name a 409, and references are checked (a forwarding rule to
 *       a missing backend service, a backend service with a missing group or check, a group still
 *       used by a backend service on delete: 400).
 *   <li>Mutations answer real {@link Operation}s (numeric IDs as strings). A test can make the next
 *       operations run for some polls before DONE, or end in an error (e.g. a quota).
 *   <li>A test can make the next requests fail with {@code rateLimitExceeded}; every request is
 *       counted by method and collection.
 * </ul>
 */
public final class ComputeFake implements AutoCloseable {

  private static final Pattern REGION =
      Pattern.compile("/compute/v1/projects/([^/]+)/regions/([^/]+)");

  private static final Pattern PATH =
      Pattern.compile(
          "/compute/v1/projects/([^/]+)/(regions/[^/]+|zones/[^/]+|global)/([A-Za-z]+)"
              + "(?:/([^/]+))?(?:/([A-Za-z]+))?");

  /** The message class each collection holds. */
  private static final Map<String, Supplier<Message.Builder>> KINDS =
      Map.of(
          "addresses", Address::newBuilder,
          "forwardingRules", ForwardingRule::newBuilder,
          "backendServices", BackendService::newBuilder,
          "healthChecks", HealthCheck::newBuilder,
          "firewalls", Firewall::newBuilder,
          "instanceGroups", InstanceGroup::newBuilder,
          "instances", Instance::newBuilder);

  private final HttpServer server;
  private final String base;
  // selfLink -> resource
  private final Map<String, Message> resources = new ConcurrentHashMap<>();
  // instance group selfLink -> instance selfLinks
  private final Map<String, List<String>> members = new ConcurrentHashMap<>();
  private final Map<String, Operation> operations = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> pollsLeft = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong(4_000_000_000_000_000_000L);
  private final AtomicInteger throttleNext = new AtomicInteger();
  private final AtomicInteger addressesGiven = new AtomicInteger();
  private final AtomicInteger denyNext = new AtomicInteger();
  private volatile int runningPolls;
  private volatile Error failNextOperation;

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

  /** Operations of later mutations stay RUNNING for {@code polls} polls before DONE. */
  public void runningPolls(int polls) {
    runningPolls = polls;
  }

  /** The next {@code n} requests fail as Compute answers a spent rate budget. */
  public void throttleNext(int n) {
    throttleNext.set(n);
  }

  /** The next {@code n} requests fail as Compute answers an identity missing a permission. */
  void denyNext(int n) {
    denyNext.set(n);
  }

  /** A regional health check made outside the code under test. */
  void addHealthCheck(String project, String region, String name) {
    String link =
        base + "/compute/v1/projects/" + project + "/regions/" + region + "/healthChecks/" + name;
    resources.put(
        link, HealthCheck.newBuilder().setName(name).setSelfLink(link).setType("TCP").build());
  }

  /** An address the user reserved themselves (not through Ferry). */
  void reserveAddress(String project, String region, String name, String ip) {
    String link =
        base + "/compute/v1/projects/" + project + "/regions/" + region + "/addresses/" + name;
    resources.put(
        link,
        Address.newBuilder()
            .setName(name)
            .setId(ids.incrementAndGet())
            .setSelfLink(link)
            .setAddress(ip)
            .setAddressType("EXTERNAL")
            .setStatus("RESERVED")
            .build());
  }

  /** The next mutation's operation ends DONE with this error and changes nothing. */
  void failNextOperation(String code, String message) {
    failNextOperation =
        Error.newBuilder()
            .addErrors(Errors.newBuilder().setCode(code).setMessage(message).build())
            .build();
  }

  /** Requests so far by {@code METHOD collection[/verb]}, e.g. {@code POST forwardingRules}. */
  public Map<String, Long> calls() {
    Map<String, Long> out = new TreeMap<>();
    calls.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  /** Adds a VM as the cloud would have it (instances are not made through this fake). */
  public String addInstance(String project, String zone, String name, String networkTag) {
    String link =
        base + "/compute/v1/projects/" + project + "/zones/" + zone + "/instances/" + name;
    Instance.Builder vm =
        Instance.newBuilder()
            .setName(name)
            .setId(ids.incrementAndGet())
            .setSelfLink(link)
            .setZone(base + "/compute/v1/projects/" + project + "/zones/" + zone)
            .setStatus("RUNNING");
    if (networkTag != null) {
      vm.getTagsBuilder().addItems(networkTag);
    }
    resources.put(link, vm.build());
    return link;
  }

  /** The resources of {@code collection} (e.g. {@code forwardingRules}) in every scope. */
  public List<Message> all(String collection) {
    List<Message> out = new ArrayList<>();
    resources.forEach(
        (link, m) -> {
          if (link.matches(".*/" + collection + "/[^/]+")) {
            out.add(m);
          }
        });
    return out;
  }

  /** The instances in a group, by selfLink. */
  public List<String> membersOf(String groupLink) {
    return List.copyOf(members.getOrDefault(resolve(groupLink), List.of()));
  }

  /** The resource at {@code link} (full or {@code projects/...}), or null. */
  public Message get(String link) {
    return resources.get(resolve(link));
  }

  private void handle(HttpExchange ex) throws IOException {
    try {
      route(ex);
    } catch (InvalidProtocolBufferException e) {
      error(ex, 400, "invalid", "Invalid JSON payload received. " + e.getMessage());
    } catch (RuntimeException e) {
      error(ex, 500, "backendError", e.toString());
    } finally {
      ex.close();
    }
  }

  private void route(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    Matcher region = REGION.matcher(path);
    if (region.matches() && ex.getRequestMethod().equals("GET")) {
      count("GET regions");
      region(ex, region.group(1), region.group(2));
      return;
    }
    Matcher m = PATH.matcher(path);
    if (!m.matches()) {
      error(ex, 404, "notFound", "no such path " + path);
      return;
    }
    String project = m.group(1);
    String scope = m.group(2);
    String collection = m.group(3);
    String name = m.group(4);
    String verb = m.group(5);
    String method = ex.getRequestMethod();
    count(method + " " + collection + (verb == null ? "" : "/" + verb));
    if (throttleNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      error(ex, 403, "rateLimitExceeded", "Rate Limit Exceeded");
      return;
    }
    if (denyNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      error(
          ex,
          403,
          "forbidden",
          "Required 'compute." + collection + ".get' permission for '" + path + "'");
      return;
    }
    String scopeLink = base + "/compute/v1/projects/" + project + "/" + scope;
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    if (collection.equals("operations")) {
      operation(ex, scopeLink + "/operations/" + name);
      return;
    }
    if (!KINDS.containsKey(collection)) {
      error(ex, 404, "notFound", "no such collection " + collection);
      return;
    }
    String collectionLink = scopeLink + "/" + collection;
    synchronized (this) {
      if (name == null) {
        if (method.equals("GET")) {
          list(ex, collectionLink, collection);
        } else if (method.equals("POST")) {
          insert(ex, collectionLink, collection, scopeLink, body);
        } else {
          error(ex, 405, "badRequest", method + " " + path);
        }
        return;
      }
      String link = collectionLink + "/" + name;
      if (verb != null) {
        verb(ex, link, verb, scopeLink, body);
      } else if (method.equals("GET")) {
        Message found = resources.get(link);
        if (found == null) {
          error(ex, 404, "notFound", "The resource '" + link + "' was not found");
        } else {
          send(ex, 200, found);
        }
      } else if (method.equals("DELETE")) {
        delete(ex, link, scopeLink);
      } else if (method.equals("PATCH")) {
        patch(ex, link, collection, scopeLink, body);
      } else if (method.equals("PUT")) {
        update(ex, link, collection, scopeLink, body);
      } else {
        error(ex, 405, "badRequest", method + " " + path);
      }
    }
  }

  private void insert(
      HttpExchange ex, String collectionLink, String collection, String scopeLink, String body)
      throws IOException {
    Message.Builder b = KINDS.get(collection).get();
    JsonFormat.parser().merge(body, b); // strict: an unknown field fails
    String name = (String) b.getField(b.getDescriptorForType().findFieldByName("name"));
    if (name == null || !name.matches("[a-z]([-a-z0-9]{0,61}[a-z0-9])?")) {
      error(ex, 400, "invalid", "Invalid value for field 'resource.name': '" + name + "'");
      return;
    }
    String link = collectionLink + "/" + name;
    if (resources.containsKey(link)) {
      error(ex, 409, "alreadyExists", "The resource '" + link + "' already exists");
      return;
    }
    String invalid = invalid(b.build());
    if (invalid != null) {
      error(ex, 400, "invalid", invalid);
      return;
    }
    set(b, "self_link", link);
    if (field(b, "fingerprint") != null) {
      set(b, "fingerprint", "fp" + ids.incrementAndGet());
    }
    set(b, "id", ids.incrementAndGet());
    set(b, "creation_timestamp", "2026-11-23T00:00:00.000-08:00");
    if (collection.equals("addresses") && !b.hasField(field(b, "address"))) {
      int n = addressesGiven.incrementAndGet();
      set(b, "address", "34.118." + (n / 250) + "." + (n % 250 + 2));
    }
    if (collection.equals("forwardingRules") && !b.hasField(field(b, "I_p_address"))) {
      int n = addressesGiven.incrementAndGet();
      set(b, "I_p_address", "34.119." + (n / 250) + "." + (n % 250 + 2));
    }
    mutate(ex, scopeLink, "insert", link, () -> resources.put(link, b.build()));
  }

  private void patch(HttpExchange ex, String link, String collection, String scopeLink, String body)
      throws IOException {
    Message existing = resources.get(link);
    if (existing == null) {
      error(ex, 404, "notFound", "The resource '" + link + "' was not found");
      return;
    }
    Message.Builder change = KINDS.get(collection).get();
    JsonFormat.parser().merge(body, change);
    Message.Builder b = existing.toBuilder();
    // patch semantics: a field given replaces the stored one (repeated fields whole)
    change.getAllFields().forEach(b::setField);
    String invalid = invalid(b.build());
    if (invalid != null) {
      error(ex, 400, "invalid", invalid);
      return;
    }
    mutate(ex, scopeLink, "patch", link, () -> resources.put(link, b.build()));
  }

  /** PUT: the whole resource replaced; a backend service's fingerprint must match (else 412). */
  private void update(
      HttpExchange ex, String link, String collection, String scopeLink, String body)
      throws IOException {
    Message existing = resources.get(link);
    if (existing == null) {
      error(ex, 404, "notFound", "The resource '" + link + "' was not found");
      return;
    }
    Message.Builder b = KINDS.get(collection).get();
    JsonFormat.parser().merge(body, b);
    FieldDescriptor fingerprint = field(b, "fingerprint");
    if (fingerprint != null
        && existing.hasField(fingerprint)
        && !existing.getField(fingerprint).equals(b.getField(fingerprint))) {
      error(
          ex,
          412,
          "conditionNotMet",
          "Supplied fingerprint does not match current metadata fingerprint.");
      return;
    }
    String invalid = invalid(b.build());
    if (invalid != null) {
      error(ex, 400, "invalid", invalid);
      return;
    }
    for (String kept : List.of("self_link", "id", "creation_timestamp", "name")) {
      b.setField(field(b, kept), existing.getField(field(b, kept)));
    }
    if (fingerprint != null) {
      set(b, "fingerprint", "fp" + ids.incrementAndGet());
    }
    mutate(ex, scopeLink, "update", link, () -> resources.put(link, b.build()));
  }

  private void region(HttpExchange ex, String project, String region) throws IOException {
    Set<String> zones = new TreeSet<>();
    String prefix = base + "/compute/v1/projects/" + project + "/zones/" + region + "-";
    for (String link : resources.keySet()) {
      if (link.startsWith(prefix)) {
        zones.add(link.substring(0, link.indexOf('/', prefix.length())));
      }
    }
    Region.Builder r =
        Region.newBuilder()
            .setName(region)
            .setSelfLink(base + "/compute/v1/projects/" + project + "/regions/" + region)
            .setStatus("UP")
            .addAllZones(zones);
    send(ex, 200, r.build());
  }

  private void count(String key) {
    calls.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
  }

  /** A link as given (full, or {@code projects/...} as Compute also takes) made full. */
  private String resolve(String link) {
    return link.startsWith("http") ? link : base + "/compute/v1/" + link;
  }

  /** What Compute would refuse in a resource's fields, or null. */
  private String invalid(Message m) {
    String broken = brokenReference(m);
    if (broken != null) {
      return "The resource '" + broken + "' was not found";
    }
    if (m instanceof ForwardingRule r) {
      if (r.getPortsCount() > 5) {
        return "Invalid value for field 'resource.ports': at most 5 ports; use allPorts";
      }
      if (r.getAllPorts() && r.getPortsCount() > 0) {
        return "Invalid value for field 'resource.allPorts': ports and allPorts are exclusive";
      }
      if (!r.getBackendService().isEmpty()) {
        BackendService s = (BackendService) resources.get(resolve(r.getBackendService()));
        if (!s.getLoadBalancingScheme().equals(r.getLoadBalancingScheme())) {
          return "Invalid value for field 'resource.loadBalancingScheme': '"
              + r.getLoadBalancingScheme()
              + "' does not match the backend service's '"
              + s.getLoadBalancingScheme()
              + "'";
        }
        if (!s.getProtocol().equals(r.getIPProtocol())) {
          return "Invalid value for field 'resource.IPProtocol': '"
              + r.getIPProtocol()
              + "' does not match the backend service's protocol '"
              + s.getProtocol()
              + "'";
        }
      }
    }
    if (m instanceof BackendService s && s.getHealthChecksCount() != 1) {
      return "Invalid value for field 'resource.healthChecks': a network load balancer's backend"
          + " service takes exactly one health check";
    }
    return null;
  }

  private void delete(HttpExchange ex, String link, String scopeLink) throws IOException {
    if (!resources.containsKey(link)) {
      error(ex, 404, "notFound", "The resource '" + link + "' was not found");
      return;
    }
    String user = usedBy(link);
    if (user != null) {
      error(
          ex,
          400,
          "resourceInUseByAnotherResource",
          "The resource '" + link + "' is already being used by '" + user + "'");
      return;
    }
    mutate(
        ex,
        scopeLink,
        "delete",
        link,
        () -> {
          resources.remove(link);
          members.remove(link);
        });
  }

  private void verb(HttpExchange ex, String link, String verb, String scopeLink, String body)
      throws IOException {
    if (!resources.containsKey(link)) {
      error(ex, 404, "notFound", "The resource '" + link + "' was not found");
      return;
    }
    switch (verb) {
      case "addInstances" -> {
        InstanceGroupsAddInstancesRequest.Builder req =
            InstanceGroupsAddInstancesRequest.newBuilder();
        JsonFormat.parser().merge(body, req);
        List<String> have = members.getOrDefault(link, List.of());
        for (InstanceReference r : req.getInstancesList()) {
          if (!resources.containsKey(resolve(r.getInstance()))) {
            error(ex, 400, "invalid", "The resource '" + r.getInstance() + "' was not found");
            return;
          }
          if (have.contains(resolve(r.getInstance()))) {
            error(
                ex,
                400,
                "memberAlreadyExists",
                "Resource '" + r.getInstance() + "' is already a member of '" + link + "'");
            return;
          }
        }
        mutate(
            ex,
            scopeLink,
            "addInstances",
            link,
            () -> {
              List<String> next = new ArrayList<>(members.getOrDefault(link, List.of()));
              req.getInstancesList().forEach(r -> next.add(resolve(r.getInstance())));
              members.put(link, List.copyOf(next));
            });
      }
      case "removeInstances" -> {
        InstanceGroupsRemoveInstancesRequest.Builder req =
            InstanceGroupsRemoveInstancesRequest.newBuilder();
        JsonFormat.parser().merge(body, req);
        mutate(
            ex,
            scopeLink,
            "removeInstances",
            link,
            () -> {
              List<String> next = new ArrayList<>(members.getOrDefault(link, List.of()));
              req.getInstancesList().forEach(r -> next.remove(resolve(r.getInstance())));
              members.put(link, List.copyOf(next));
            });
      }
      case "listInstances" -> {
        InstanceGroupsListInstances.Builder out = InstanceGroupsListInstances.newBuilder();
        for (String i : members.getOrDefault(link, List.of())) {
          out.addItems(InstanceWithNamedPorts.newBuilder().setInstance(i).setStatus("RUNNING"));
        }
        send(ex, 200, out.build());
      }
      default -> error(ex, 400, "badRequest", "unknown method " + verb);
    }
  }

  private void list(HttpExchange ex, String collectionLink, String collection) throws IOException {
    StringBuilder items = new StringBuilder();
    for (Map.Entry<String, Message> e : new TreeMap<>(resources).entrySet()) {
      if (e.getKey().startsWith(collectionLink + "/")) {
        items.append(items.isEmpty() ? "" : ",").append(JsonFormat.printer().print(e.getValue()));
      }
    }
    String json =
        "{\"kind\":\"compute#"
            + collection
            + "List\",\"id\":\""
            + collectionLink
            + "\",\"items\":["
            + items
            + "],\"selfLink\":\""
            + collectionLink
            + "\"}";
    sendJson(ex, 200, json);
  }

  /** Makes an operation; applies {@code change} now unless the test made this one fail. */
  private void mutate(
      HttpExchange ex, String scopeLink, String type, String target, Runnable change)
      throws IOException {
    long id = ids.incrementAndGet();
    String name = "operation-" + id;
    String link = scopeLink + "/operations/" + name;
    Operation.Builder op =
        Operation.newBuilder()
            .setKind("compute#operation")
            .setId(id)
            .setName(name)
            .setOperationType(type)
            .setTargetLink(target)
            .setSelfLink(link)
            .setProgress(100);
    if (scopeLink.contains("/regions/")) {
      op.setRegion(scopeLink);
    } else if (scopeLink.contains("/zones/")) {
      op.setZone(scopeLink);
    }
    Error failure = failNextOperation;
    failNextOperation = null;
    if (failure != null) {
      op.setError(failure).setHttpErrorStatusCode(403).setHttpErrorMessage("FORBIDDEN");
    } else {
      change.run();
    }
    int polls = runningPolls;
    op.setStatus(polls > 0 ? Operation.Status.RUNNING : Operation.Status.DONE);
    pollsLeft.put(link, new AtomicInteger(polls));
    operations.put(link, op.build());
    send(ex, 200, op.build());
  }

  private void operation(HttpExchange ex, String link) throws IOException {
    Operation op = operations.get(link);
    if (op == null) {
      error(ex, 404, "notFound", "The resource '" + link + "' was not found");
      return;
    }
    if (pollsLeft.get(link).getAndDecrement() <= 0) {
      op = op.toBuilder().setStatus(Operation.Status.DONE).build();
      operations.put(link, op);
    }
    send(ex, 200, op);
  }

  /** A referenced resource that does not exist, or null. */
  private String brokenReference(Message m) {
    List<String> refs = new ArrayList<>();
    if (m instanceof ForwardingRule r && !r.getBackendService().isEmpty()) {
      refs.add(r.getBackendService());
    }
    if (m instanceof BackendService s) {
      refs.addAll(s.getHealthChecksList());
      s.getBackendsList().forEach(b -> refs.add(b.getGroup()));
    }
    return refs.stream().filter(r -> !resources.containsKey(resolve(r))).findFirst().orElse(null);
  }

  /** A resource referring to {@code link}, or null. */
  private String usedBy(String link) {
    for (Map.Entry<String, Message> e : resources.entrySet()) {
      Message m = e.getValue();
      boolean uses =
          (m instanceof ForwardingRule r && resolve(r.getBackendService()).equals(link))
              || (m instanceof BackendService s
                  && (s.getHealthChecksList().stream().anyMatch(h -> resolve(h).equals(link))
                      || s.getBackendsList().stream()
                          .anyMatch(b -> resolve(b.getGroup()).equals(link))));
      if (uses) {
        return e.getKey();
      }
    }
    return null;
  }

  private static FieldDescriptor field(Message.Builder b, String name) {
    return b.getDescriptorForType().findFieldByName(name);
  }

  private static void set(Message.Builder b, String name, Object value) {
    FieldDescriptor f = field(b, name);
    if (f != null) {
      b.setField(f, value);
    }
  }

  private static void send(HttpExchange ex, int status, Message m) throws IOException {
    sendJson(ex, status, JsonFormat.printer().print(m));
  }

  private static void error(HttpExchange ex, int status, String reason, String message)
      throws IOException {
    String quoted = message.replace("\\", "\\\\").replace("\"", "\\\"");
    sendJson(
        ex,
        status,
        "{\"error\":{\"code\":"
            + status
            + ",\"message\":\""
            + quoted
            + "\",\"errors\":[{\"domain\":\"global\",\"reason\":\""
            + reason
            + "\",\"message\":\""
            + quoted
            + "\"}]}}");
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
}
