package io.annflight.flight;

import io.annflight.flight.access.Grants;
import io.annflight.runtime.StreamJob;
import io.annflight.runtime.StreamLimits;
import io.annflight.runtime.StreamRuntime;
import io.annflight.collection.CollectionEngine;
import io.annflight.collection.CollectionPlan;
import io.annflight.sampling.EpochOrder;
import io.annflight.sampling.EpochOrders;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RowSelection;
import io.annflight.schema.Ticket;
import io.annflight.schema.TicketJson;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.ActionType;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.NoOpFlightProducer;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SchemaResult;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Flight service, a thin adapter: resolves what the client sent into a request and store
 * paths, checks the caller's grants, asks the engine for a plan, and answers from it; a DoGet
 * is planned into a {@link StreamJob} and handed to the {@link StreamRuntime}. Holds no per-call
 * state.
 */
public final class AnnflightProducer extends NoOpFlightProducer {
  private static final Logger LOG = LoggerFactory.getLogger(AnnflightProducer.class);

  private final RequestResolver resolver;
  private final Function<String, Grants> access;
  private final CollectionEngine engine;
  private final EndpointPlanner endpoints;
  private final Supplier<List<Location>> locations;
  private final BufferAllocator allocator;
  private final StreamRuntime runtime;
  private final CollectionActions actions;
  private final EpochOrders epochOrders = new EpochOrders();
  private final String warmupIdentity = "annflight-warm-up-" + java.util.UUID.randomUUID();

  /**
   * @param locations where clients should fetch endpoints (known only once the server listens)
   * @param allocator the server's, for actions and for the status it reports
   * @param runtime runs DoGet streams
   * @param access the grants of an authenticated caller (its peer identity)
   */
  public AnnflightProducer(RequestResolver resolver, CollectionEngine engine,
      EndpointPlanner endpoints, Supplier<List<Location>> locations, BufferAllocator allocator,
      StreamRuntime runtime, Function<String, Grants> access) {
    this.resolver = resolver;
    this.engine = engine;
    this.endpoints = endpoints;
    this.locations = locations;
    this.allocator = allocator;
    this.runtime = runtime;
    this.access = access;
    this.actions = new CollectionActions(resolver, allocator);
  }

  /** The caller's grants, checked before any request is planned or read. */
  private Grants grants(CallContext context) {
    return isWarmup(context) ? Grants.ALL : access.apply(context.peerIdentity());
  }

  private boolean isWarmup(CallContext context) {
    return warmupIdentity.equals(context.peerIdentity());
  }

  /** {@link #lease} for a caller: refused unless its grants cover the request. */
  private CollectionPlan.Lease lease(Grants grants, CollectionRequest request) {
    grants.check(request);
    return lease(request);
  }

  /** A failure as the client sees it: its status, and a message without server directories. */
  FlightRuntimeException toFlight(Throwable t) {
    return FlightErrors.toFlight(t, resolver::redact);
  }

  /**
   * The engine's plan for a request, with its store paths resolved and checked, leased: its
   * stores stay open until the lease is closed.
   */
  public CollectionPlan.Lease lease(CollectionRequest request) {
    return engine.lease(request, resolver.storePaths(request));
  }

  @Override
  public void listFlights(CallContext context, Criteria criteria,
      StreamListener<FlightInfo> listener) {
    try {
      Grants grants = grants(context);
      for (ConfiguredCollection c : resolver.registry().all()) {
        if (!grants.allows(c.name())) {
          continue; // a caller sees only the collections it is granted
        }
        FlightDescriptor d = FlightDescriptor.path(c.name());
        try {
          listener.onNext(info(d, c.request()));
        } catch (RuntimeException e) {
          // One broken collection should not hide the others; its GetFlightInfo says why.
          LOG.warn("ListFlights skips collection {}: {}", c.name(), e.getMessage());
        }
      }
      listener.onCompleted();
    } catch (RuntimeException e) {
      listener.onError(toFlight(e));
    }
  }

  @Override
  public FlightInfo getFlightInfo(CallContext context, FlightDescriptor descriptor) {
    try {
      CollectionRequest request = resolver.request(descriptor);
      grants(context).check(request);
      return info(descriptor, request);
    } catch (RuntimeException e) {
      throw toFlight(e);
    }
  }

  @Override
  public SchemaResult getSchema(CallContext context, FlightDescriptor descriptor) {
    try {
      CollectionRequest request = resolver.request(descriptor);
      try (CollectionPlan.Lease lease = lease(grants(context), request)) {
        return new SchemaResult(WireSchema.of(lease.plan().outputSchema()));
      }
    } catch (RuntimeException e) {
      throw toFlight(e);
    }
  }

  private FlightInfo info(FlightDescriptor descriptor, CollectionRequest request) {
    try (CollectionPlan.Lease lease = lease(request)) {
      return info(descriptor, request, lease.plan());
    }
  }

  private FlightInfo info(FlightDescriptor descriptor, CollectionRequest request,
      CollectionPlan plan) {
    EpochOrder order = epochOrders.of(plan, request.epoch());
    // Refused here already, not only when the first stream starts.
    runtime.rowsPerBatch(plan, request, order.length());
    String configuration = resolver.configuration(request);
    List<RowSelection.Range> ranges = endpoints.ranges(plan, request, order);
    List<Location[]> where = ReplicaAssignment.assign(ranges, locations.get());
    List<FlightEndpoint> eps = new ArrayList<>();
    for (int i = 0; i < ranges.size(); i++) {
      // The caller's request, not the cached plan's: batch size and compression differ per call.
      byte[] ticket = TicketJson.write(new Ticket(request, ranges.get(i), configuration));
      eps.add(new FlightEndpoint(new org.apache.arrow.flight.Ticket(ticket), where.get(i)));
    }
    return new FlightInfo(WireSchema.of(plan.outputSchema()), descriptor, eps, -1,
        order.length(), true, IpcOption.DEFAULT);
  }

  @Override
  public void getStream(CallContext context, org.apache.arrow.flight.Ticket ticket,
      ServerStreamListener listener) {
    StreamLimits.Permit permit = null;
    StreamJob job;
    try {
      permit = runtime.admit(context.peerIdentity());
      Ticket t = TicketJson.read(ticket.getBytes(), resolver.registry()::request);
      resolver.checkConfiguration(t);
      // A ticket is a request in the caller's hands: checked like any other.
      // The warm-up's streams are not counted.
      job = job(grants(context), t.request(), order -> t.rows(),
          isWarmup(context) ? null : metricsLabel(t.request()), permit,
          SharedMemoryHeader.requested(context));
    } catch (RuntimeException e) {
      AutoCloseables.closeNoChecked(permit);
      listener.error(toFlight(e));
      return;
    }
    runtime.start(job, listener);
  }

  /**
   * A stream of a request's rows (chosen from its epoch's order), planned and holding its
   * lease and {@code permit}; when planning fails, both are given back.
   *
   * @param label what the metrics count the stream under; null for none
   * @param sharedMemory the ring file the client asks the batches to go through; null: none
   */
  private StreamJob job(Grants grants, CollectionRequest request,
      Function<EpochOrder, RowSelection> rows, String label, StreamLimits.Permit permit,
      String sharedMemory) {
    CollectionPlan.Lease lease = null;
    try {
      lease = lease(grants, request);
      CollectionPlan plan = lease.plan();
      EpochOrder order = epochOrders.of(plan, request.epoch());
      RowSelection selected = rows.apply(order);
      return new StreamJob(lease, order, selected, runtime.rowsPerBatch(plan, request,
          selected.count()), request.compression(), label, permit, sharedMemory);
    } catch (RuntimeException e) {
      AutoCloseables.closeNoChecked(lease);
      permit.close();
      throw e;
    }
  }

  /**
   * Warms the server up before its first client (see {@link LoopbackWarmup}): until
   * {@code budget} has passed or after {@code maxPasses} passes, short streams of every
   * configured collection through a loopback port only this process can call.
   *
   * @return the streams read
   */
  public int warmUp(java.time.Duration budget, long rowsPerStream, int maxPasses)
      throws java.io.IOException, InterruptedException {
    return LoopbackWarmup.run(this, allocator, budget, rowsPerStream, maxPasses);
  }

  /** The peer identity of the warm-up's calls: random, so no token can claim it. */
  String warmupIdentity() {
    return warmupIdentity;
  }

  /** The configured collections' names. */
  List<String> collectionNames() {
    return resolver.registry().all().stream().map(ConfiguredCollection::name).toList();
  }

  /** What the metrics count a stream under: its collection, or "paths". */
  private static String metricsLabel(CollectionRequest request) {
    return request.collection() != null ? request.collection() : "paths";
  }

  /** What {@link ServerStatus} reports: memory and streams right now. */
  ServerStatus status() {
    return new ServerStatus(allocator.getAllocatedMemory(), allocator.getPeakMemoryAllocation(),
        runtime.running(), runtime.draining());
  }

  @Override
  public void doAction(CallContext context, Action action, StreamListener<Result> listener) {
    try {
      Grants grants = grants(context);
      if (ServerStatus.TYPE.equals(action.getType())) {
        listener.onNext(new Result(status().toJson()));
      } else {
        // Per-row answers arrive as several results (pieces of one IPC stream), each sent
        // once gRPC has sent the one before.
        actions.run(action.getType(), action.getBody(), r -> lease(grants, r),
            new PacedResults(listener));
      }
    } catch (RuntimeException e) {
      listener.onError(toFlight(e));
      return;
    }
    listener.onCompleted();
  }

  @Override
  public void listActions(CallContext context, StreamListener<ActionType> listener) {
    for (ActionKind k : ActionKind.values()) {
      listener.onNext(new ActionType(k.type(), k.description()));
    }
    listener.onNext(new ActionType(ServerStatus.TYPE, ServerStatus.DESCRIPTION));
    listener.onCompleted();
  }
}
