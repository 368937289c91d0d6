package dev.ferry.provider.local;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A UDP proxy port with a flow table: the first datagram from a client asks the {@link Router} for
 * a target and opens a flow (a socket from {@code flowSource} to the target); replies return to the
 * client from the proxy's port. {@link #expireIdle} ends flows idle longer than the idle timeout.
 */
public final class UdpProxy implements L4Proxy {

  private static final Logger log = LoggerFactory.getLogger(UdpProxy.class);
  private static final int MAX_DATAGRAM = 65535;

  private final InetSocketAddress bound;
  private final Router router;
  private final InetAddress flowSource;
  private final Duration idleTimeout;
  private final DatagramChannel front;
  private final Map<SocketAddress, Flow> flows = new ConcurrentHashMap<>();
  private final Thread receiver;
  private volatile boolean closed;

  private final class Flow {
    final DatagramChannel channel;
    final SocketAddress client;
    volatile long lastActive = System.nanoTime();

    Flow(SocketAddress client, InetSocketAddress target) throws IOException {
      this.client = client;
      this.channel = DatagramChannel.open();
      channel.bind(new InetSocketAddress(flowSource, 0));
      channel.connect(target);
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
          // ICMP unreachable, or closed: the flow ends at idle or close
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

  private UdpProxy(
      InetSocketAddress bind, Router router, InetAddress flowSource, Duration idleTimeout)
      throws IOException {
    this.bound = bind;
    this.router = router;
    this.flowSource = flowSource;
    this.idleTimeout = idleTimeout;
    this.front = DatagramChannel.open();
    front.bind(bind);
    receiver = Thread.ofVirtual().name("udp-proxy-" + bind).start(this::receiveLoop);
  }

  /** Binds {@code bind}; flows to targets leave from {@code flowSource}. */
  public static UdpProxy open(
      InetSocketAddress bind, Router router, InetAddress flowSource, Duration idleTimeout)
      throws IOException {
    return new UdpProxy(bind, router, flowSource, idleTimeout);
  }

  private void receiveLoop() {
    ByteBuffer buffer = ByteBuffer.allocate(MAX_DATAGRAM);
    while (!closed) {
      try {
        buffer.clear();
        SocketAddress client = front.receive(buffer);
        buffer.flip();
        InetAddress from = ((InetSocketAddress) client).getAddress();
        if (!router.admits(from)) {
          continue;
        }
        Flow flow = flows.get(client);
        if (flow == null) {
          Optional<InetSocketAddress> target = router.route(from, Set.of());
          if (target.isEmpty()) {
            continue;
          }
          flow = new Flow(client, target.get());
          flows.put(client, flow);
        }
        flow.lastActive = System.nanoTime();
        flow.channel.write(buffer);
      } catch (IOException e) {
        if (!closed) {
          log.debug("udp {}: {}", bound, e.getMessage());
        }
      }
    }
  }

  /** Ends flows idle longer than the idle timeout. */
  public void expireIdle() {
    long limit = System.nanoTime() - idleTimeout.toNanos();
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
