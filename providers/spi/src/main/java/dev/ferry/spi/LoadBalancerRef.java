package dev.ferry.spi;

/**
 * Names one Service's load balancer. The UID ties cloud resources to exactly one Service object: a
 * Service deleted and created again under the same name gets a new load balancer.
 */
public record LoadBalancerRef(String cluster, String namespace, String name, String uid) {

  public LoadBalancerRef {
    Names.requireNonBlank(cluster, "cluster");
    Names.requireNonBlank(namespace, "namespace");
    Names.requireNonBlank(name, "name");
    Names.requireNonBlank(uid, "uid");
  }

  /** {@code namespace/name}, the Service's key. */
  public String serviceKey() {
    return namespace + "/" + name;
  }

  // written out: see Backend.equals
  @Override
  public boolean equals(Object o) {
    return o == this
        || o instanceof LoadBalancerRef r
            && uid.equals(r.uid)
            && name.equals(r.name)
            && namespace.equals(r.namespace)
            && cluster.equals(r.cluster);
  }

  @Override
  public int hashCode() {
    return ((cluster.hashCode() * 31 + namespace.hashCode()) * 31 + name.hashCode()) * 31
        + uid.hashCode();
  }
}
