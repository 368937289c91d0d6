package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.InstanceGroupsAddInstancesRequest;
import com.google.cloud.compute.v1.InstanceGroupsRemoveInstancesRequest;
import com.google.cloud.compute.v1.InstanceReference;
import com.google.cloud.compute.v1.RegionSetLabelsRequest;
import com.google.cloud.compute.v1.Subnetwork;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import dev.ferry.provider.gcp.ComputeDiscovery.Method;
import dev.ferry.provider.gcp.ComputeRules.Refusal;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Compute methods the fake implements, each as Compute answers it; called under the fake's lock
 * with the request already matched to its fake.discovery method and its body validated.
 */
final class ComputeMethods {

  private final ComputeFake fake;
  private final ComputeOperations ops;

  ComputeMethods(ComputeFake fake, ComputeOperations ops) {
    this.fake = fake;
    this.ops = ops;
  }

  void get(HttpExchange ex, Method m, String link) throws IOException {
    if (m.resource().equals("regions")) {
      List<String> z = fake.zones.get(link);
      if (z == null) {
        ComputeAnswers.notFound(ex, link);
        return;
      }
      JsonObject region = new JsonObject();
      region.addProperty("kind", "compute#region");
      region.addProperty("name", ComputeFake.last(link));
      region.addProperty("selfLink", ComputeFake.GOOGLEAPIS + link);
      region.addProperty("status", "UP");
      JsonArray links = new JsonArray();
      String project = link.substring(0, link.indexOf("/regions/"));
      z.forEach(zone -> links.add(ComputeFake.GOOGLEAPIS + project + "/zones/" + zone));
      region.add("zones", links);
      ComputeAnswers.sendJson(ex, 200, region.toString());
      return;
    }
    if (m.resource().endsWith("Operations")) {
      ops.poll(ex, link);
      return;
    }
    Message found = fake.resources.get(link);
    if (found == null) {
      ComputeAnswers.notFound(ex, link);
    } else {
      ComputeAnswers.send(ex, 200, fake.rules.shown(link, found));
    }
  }

  void list(HttpExchange ex, String collectionLink, Map<String, String> query) throws IOException {
    ComputeListFilter filter;
    try {
      filter = ComputeListFilter.parse(query.getOrDefault("filter", ""));
    } catch (IllegalArgumentException e) {
      ComputeAnswers.error(
          ex, new Refusal(400, "invalid", "Invalid value for field 'filter': " + e.getMessage()));
      return;
    }
    List<JsonObject> items = new ArrayList<>();
    for (Map.Entry<String, Message> e : fake.resources.entrySet()) {
      String k = e.getKey();
      if (k.startsWith(collectionLink + "/") && k.indexOf('/', collectionLink.length() + 1) < 0) {
        JsonObject item =
            JsonParser.parseString(ComputeAnswers.print(fake.rules.shown(k, e.getValue())))
                .getAsJsonObject();
        if (filter.matches(item)) {
          items.add(item);
        }
      }
    }
    page(ex, "compute#" + ComputeFake.last(collectionLink) + "List", collectionLink, items, query);
  }

  void page(
      HttpExchange ex, String kind, String link, List<JsonObject> items, Map<String, String> query)
      throws IOException {
    int size = Math.min(fake.pageSize, Integer.parseInt(query.getOrDefault("maxResults", "500")));
    int from = query.containsKey("pageToken") ? Integer.parseInt(query.get("pageToken")) : 0;
    JsonObject out = new JsonObject();
    out.addProperty("kind", kind);
    out.addProperty("id", ComputeFake.GOOGLEAPIS + link);
    JsonArray page = new JsonArray();
    items.subList(from, Math.min(items.size(), from + size)).forEach(page::add);
    out.add("items", page);
    if (from + size < items.size()) {
      out.addProperty("nextPageToken", String.valueOf(from + size));
    }
    out.addProperty("selfLink", ComputeFake.GOOGLEAPIS + link);
    ComputeAnswers.sendJson(ex, 200, out.toString());
  }

  void insert(
      HttpExchange ex,
      Method m,
      String collectionLink,
      String scope,
      JsonElement json,
      Map<String, String> query)
      throws IOException {
    String collection = ComputeFake.last(collectionLink);
    Message.Builder b = fake.KINDS.get(collection).get();
    JsonFormat.parser().merge(json.toString(), b);
    String link = collectionLink + "/" + b.getField(ComputeAnswers.field(b, "name"));
    if (ops.replayed(ex, query, link)) {
      return;
    }
    if (fake.resources.containsKey(link) || ops.pendingFor(link)) {
      ComputeAnswers.error(
          ex,
          new Refusal(409, "alreadyExists", "The resource '" + link + "' already exists", false));
      return;
    }
    ComputeAnswers.set(b, "self_link", ComputeFake.GOOGLEAPIS + link);
    ComputeAnswers.set(b, "id", fake.ids.incrementAndGet());
    ComputeAnswers.set(b, "creation_timestamp", "2026-11-23T00:00:00.000-08:00");
    if (ComputeAnswers.field(b, "region") != null && scope.contains("/regions/")) {
      ComputeAnswers.set(b, "region", ComputeFake.GOOGLEAPIS + scope);
    }
    if (ComputeAnswers.field(b, "fingerprint") != null) {
      ComputeAnswers.set(b, "fingerprint", ops.fingerprint());
    }
    if (ComputeAnswers.field(b, "label_fingerprint") != null) {
      ComputeAnswers.set(b, "label_fingerprint", ops.fingerprint());
    }
    Refusal refused = fake.rules.refuseInsert(m, link, fake.rules.normalize(b.build()));
    if (refused != null && !refused.inOperation()) {
      ComputeAnswers.error(ex, refused);
      return;
    }
    if (b instanceof Address.Builder a && !a.hasAddress() && a.getIpVersion().equals("IPV6")) {
      // a /96 of the subnet's /64 (reserve-static-external-ip-address: an external IPv6 address
      // is a /96 range from its subnet's external range)
      Subnetwork subnet = (Subnetwork) fake.resources.get(ComputeFake.relative(a.getSubnetwork()));
      String prefix = subnet.getExternalIpv6Prefix();
      a.setAddress(
              prefix.substring(0, prefix.indexOf("::"))
                  + ":0:"
                  + Integer.toHexString(fake.addressesGiven.incrementAndGet())
                  + "::")
          .setPrefixLength(96)
          .setStatus("RESERVED");
      if (!a.hasNetworkTier()) {
        a.setNetworkTier("PREMIUM");
      }
    } else if (b instanceof Address.Builder a && !a.hasAddress()) {
      int n = fake.addressesGiven.incrementAndGet();
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
    Message resource = fake.rules.normalize(b.build());
    ops.operation(ex, scope, "insert", link, refused, () -> fake.resources.put(link, resource));
  }

  void delete(HttpExchange ex, String link, String scope, Map<String, String> query)
      throws IOException {
    if (target(ex, query, link) == null) {
      return;
    }
    Refusal refused = fake.rules.refuseDelete(link);
    if (refused != null && !refused.inOperation()) {
      ComputeAnswers.error(ex, refused);
      return;
    }
    // an operation acts on the resource it was asked about: a late one never touches a new
    // resource of the same name
    Message target = fake.resources.get(link);
    ops.operation(
        ex,
        scope,
        "delete",
        link,
        refused,
        () -> {
          if (fake.resources.remove(link, target)) {
            fake.members.remove(link);
          }
        });
  }

  /** PUT replaces, PATCH merges; a resource with a fingerprint needs the current one (412). */
  void update(
      HttpExchange ex,
      Method m,
      String link,
      String scope,
      JsonElement json,
      Map<String, String> query)
      throws IOException {
    Message existing = target(ex, query, link);
    if (existing == null) {
      return;
    }
    Message.Builder change = existing.newBuilderForType();
    JsonFormat.parser().merge(json.toString(), change);
    Message.Builder b =
        m.verb().equals("patch") ? existing.toBuilder() : existing.newBuilderForType();
    change.getAllFields().forEach(b::setField);
    String schema = existing.getDescriptorForType().getName();
    for (String out : fake.discovery.outputOnly(schema)) {
      var f =
          existing.getDescriptorForType().getFields().stream()
              .filter(d -> d.getJsonName().equals(out))
              .findFirst();
      if (f.isEmpty()) {
        continue;
      }
      if (ComputeAnswers.present(change, f.get())
          && !change.getField(f.get()).equals(existing.getField(f.get()))) {
        ComputeAnswers.error(
            ex,
            new Refusal(
                400,
                "invalid",
                "Invalid value for field 'resource." + out + "': the field is output only."));
        return;
      }
      if (ComputeAnswers.present(existing, f.get())) {
        b.setField(f.get(), existing.getField(f.get()));
      }
    }
    var fingerprint = ComputeAnswers.field(b, "fingerprint");
    if (fingerprint != null && existing.hasField(fingerprint)) {
      if (!existing.getField(fingerprint).equals(change.getField(fingerprint))) {
        ComputeAnswers.error(
            ex,
            new Refusal(
                412,
                "conditionNotMet",
                "Supplied fingerprint does not match current metadata fingerprint.",
                false));
        return;
      }
      b.setField(fingerprint, ops.fingerprint());
    }
    b.setField(ComputeAnswers.field(b, "name"), existing.getField(ComputeAnswers.field(b, "name")));
    Message resource = fake.rules.normalize(b.build());
    Refusal refused = fake.rules.refuseUpdate(link, existing, resource);
    if (refused != null && !refused.inOperation()) {
      ComputeAnswers.error(ex, refused);
      return;
    }
    ops.operation(
        ex, scope, m.verb(), link, refused, () -> fake.resources.replace(link, existing, resource));
  }

  /** {@code setLabels}: the only way to label an address or a forwarding rule. */
  void setLabels(
      HttpExchange ex, String link, String scope, JsonElement json, Map<String, String> query)
      throws IOException {
    Message existing = target(ex, query, link);
    if (existing == null) {
      return;
    }
    RegionSetLabelsRequest.Builder req = RegionSetLabelsRequest.newBuilder();
    JsonFormat.parser().merge(json.toString(), req);
    Message.Builder b = existing.toBuilder();
    if (!req.getLabelFingerprint()
        .equals(b.getField(ComputeAnswers.field(b, "label_fingerprint")))) {
      // https://cloud.google.com/compute/docs/labeling-resources#updating_labels: the current
      // fingerprint is required, a stale one is refused
      ComputeAnswers.error(
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
      ComputeAnswers.error(ex, refused);
      return;
    }
    b.clearField(ComputeAnswers.field(b, "labels"));
    if (b instanceof ForwardingRule.Builder r) {
      r.putAllLabels(req.getLabelsMap());
    } else if (b instanceof Address.Builder a) {
      a.putAllLabels(req.getLabelsMap());
    }
    ComputeAnswers.set(b, "label_fingerprint", ops.fingerprint());
    Message resource = b.build();
    ops.operation(
        ex, scope, "setLabels", link, null, () -> fake.resources.replace(link, existing, resource));
  }

  void membership(
      HttpExchange ex, Method m, String link, String scope, String body, Map<String, String> query)
      throws IOException {
    Message group = target(ex, query, link);
    if (group == null) {
      return;
    }
    List<String> given = new ArrayList<>();
    if (m.verb().equals("addInstances")) {
      InstanceGroupsAddInstancesRequest.Builder req =
          InstanceGroupsAddInstancesRequest.newBuilder();
      JsonFormat.parser().merge(body, req);
      req.getInstancesList().stream().map(InstanceReference::getInstance).forEach(given::add);
      Refusal refused = fake.rules.refuseAddInstances(link, given);
      if (refused != null && !refused.inOperation()) {
        ComputeAnswers.error(ex, refused);
        return;
      }
      ops.operation(
          ex,
          scope,
          "addInstances",
          link,
          refused,
          () -> {
            if (fake.resources.get(link) != group) {
              return; // the group it was asked about is gone
            }
            List<String> next = new ArrayList<>(fake.members.getOrDefault(link, List.of()));
            // an earlier operation may have added one since the request was checked: once only
            given.stream()
                .map(ComputeFake::relative)
                .filter(i -> !next.contains(i))
                .forEach(next::add);
            fake.members.put(link, List.copyOf(next));
          });
    } else {
      InstanceGroupsRemoveInstancesRequest.Builder req =
          InstanceGroupsRemoveInstancesRequest.newBuilder();
      JsonFormat.parser().merge(body, req);
      req.getInstancesList().stream().map(InstanceReference::getInstance).forEach(given::add);
      ops.operation(
          ex,
          scope,
          "removeInstances",
          link,
          null,
          () -> {
            if (fake.resources.get(link) != group) {
              return;
            }
            List<String> next = new ArrayList<>(fake.members.getOrDefault(link, List.of()));
            given.forEach(i -> next.remove(ComputeFake.relative(i)));
            fake.members.put(link, List.copyOf(next));
          });
    }
  }

  void listInstances(HttpExchange ex, String link, Map<String, String> query) throws IOException {
    if (!fake.resources.containsKey(link)) {
      ComputeAnswers.notFound(ex, link);
      return;
    }
    List<JsonObject> items = new ArrayList<>();
    for (String i : fake.members.getOrDefault(link, List.of())) {
      JsonObject item = new JsonObject();
      item.addProperty("instance", ComputeFake.GOOGLEAPIS + i);
      item.addProperty("status", "RUNNING");
      items.add(item);
    }
    page(ex, "compute#instanceGroupsListInstances", link, items, query);
  }

  /**
   * The resource a write names, or null once the request is answered: a retry of a request already
   * made (its operation again), or a resource that does not exist (404).
   */
  private Message target(HttpExchange ex, Map<String, String> query, String link)
      throws IOException {
    if (ops.replayed(ex, query, link)) {
      return null;
    }
    Message existing = fake.resources.get(link);
    if (existing == null) {
      ComputeAnswers.notFound(ex, link);
    }
    return existing;
  }
}
