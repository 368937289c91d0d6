package dev.ferry.bench;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** When each Service first showed an address, and when the last one went away. */
final class AddressWatch implements AutoCloseable {
  final Map<String, Long> addressed = new ConcurrentHashMap<>();
  private final Map<String, Boolean> present = new ConcurrentHashMap<>();
  private volatile long lastAddressed;
  private volatile long lastGone;
  private final SharedIndexInformer<Service> informer;

  AddressWatch(KubernetesClient client) {
    informer =
        client
            .services()
            .inNamespace(Workload.NAMESPACE)
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Service s) {
                    present.put(s.getMetadata().getName(), true);
                    seen(s);
                  }

                  @Override
                  public void onUpdate(Service old, Service s) {
                    seen(s);
                  }

                  @Override
                  public void onDelete(Service s, boolean unknown) {
                    present.remove(s.getMetadata().getName());
                    lastGone = System.nanoTime();
                  }
                });
  }

  private void seen(Service s) {
    if (s.getStatus() != null
        && s.getStatus().getLoadBalancer() != null
        && s.getStatus().getLoadBalancer().getIngress() != null
        && !s.getStatus().getLoadBalancer().getIngress().isEmpty()) {
      long now = System.nanoTime();
      if (addressed.putIfAbsent(s.getMetadata().getName(), now) == null) {
        lastAddressed = now;
      }
    }
  }

  int present() {
    return present.size();
  }

  long lastAddressed() {
    return lastAddressed;
  }

  long lastGone() {
    return lastGone;
  }

  @Override
  public void close() {
    informer.close();
  }
}
