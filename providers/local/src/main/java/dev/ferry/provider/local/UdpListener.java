package dev.ferry.provider.local;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Listener;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A UDP front end with a flow table: the first datagram from a client picks a backend and opens a
 * flow (a socket from the load balancer's address to the backend's NodePort); replies return to the
 * client from the front-end port. A flow ends after the idle timeout.
 */
final class UdpListener implements PortListener {

  private static final Logger log = LoggerFactory.getLogger(UdpListener.class);
  private static final int MAX_DATAGRAM = 65535;

  private final Listener spec;
  private final Balancer balancer;
  private final LocalSettings settings;
  private final DatagramChannel front;
  private final Map<SocketAddress, Flow> flows = new ConcurrentHashMap<>();
  private final Thread receiver;
  private volatile boolean closed;

  private final class Flow {
    final DatagramChannel channel;
    final SocketAddress client;
    volatile long lastActive = System.nanoTime();

    Flow(SocketAddress client, Backend backend) throws IOException {
      this.client = client;
      this.channel = DatagramChannel.open();
      channel.bind(new InetSocketAddress(balancer.address(), 0));
      channel.connect(new InetSocketAddress(backend.address(), spec.nodePort()));
      Thread.ofVirtual().start(this::relayReplies);
    }

    private void relayReplies() {
      ByteBuffer buffer = ByteBuffer.allocate(MAX_DATAGRAM);
      while (channel.isOpen()) {
        try {
          buffer.clear();
          channel.read(buffer);
          buffer.flip();
          lastActive = System.nanoTime();
          front.send(buffer, client);
        } catch (IOException e) {
          // ICMP unreachable or closed: the flow ends at idle or close
          if (!channel.isOpen()) {
            return;
          }
        }
      }
    }

    void close() {
      try {
        channel.close();
      } catch (IOException e) {
        // already closed
      }
    }
  }

  UdpListener(InetAddress address, Listener spec, Balancer balancer, LocalSettings settings)
      throws IOException {
    this.spec = spec;
    this.balancer = balancer;
    this.settings = settings;
    this.front = DatagramChannel.open();
    front.bind(new InetSocketAddress(address, spec.port()));
    receiver =
        Thread.ofVirtual()
            .name("udp-" + address.getHostAddress() + ":" + spec.port())
            .start(this::receiveLoop);
  }

  @Override
  public Listener spec() {
    return spec;
  }

  private void receiveLoop() {
    ByteBuffer buffer = ByteBuffer.allocate(MAX_DATAGRAM);
    while (!closed) {
      try {
        buffer.clear();
        SocketAddress client = front.receive(buffer);
        buffer.flip();
        InetAddress from = ((InetSocketAddress) client).getAddress();
        if (!balancer.admits(from)) {
          continue;
        }
        Flow flow = flows.get(client);
        if (flow == null) {
          Optional<Backend> backend = balancer.pick(from, Set.of());
          if (backend.isEmpty()) {
            continue;
          }
          flow = new Flow(client, backend.get());
          flows.put(client, flow);
        }
        flow.lastActive = System.nanoTime();
        flow.channel.write(buffer);
      } catch (IOException e) {
        if (!closed) {
          log.debug("udp port {}: {}", spec.port(), e.getMessage());
        }
      }
    }
  }

  /** Ends flows idle longer than the idle timeout; called periodically by the balancer. */
  void expireIdle() {
    long limit = System.nanoTime() - settings.udpIdleTimeout().toNanos();
    flows
        .values()
        .removeIf(
            f -> {
              if (f.lastActive < limit) {
                f.close();
                return true;
              }
              return false;
            });
  }

  int flowCount() {
    return flows.size();
  }

  @Override
  public void close() {
    closed = true;
    try {
      front.close();
    } catch (IOException e) {
      // already closed
    }
    flows.values().forEach(Flow::close);
    flows.clear();
    Threads.joinQuietly(receiver); // the port is free again when close returns
  }
}
