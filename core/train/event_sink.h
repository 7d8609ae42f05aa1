// Where training hooks send progress events. The trainer talks to this interface only, so a hook
// is tested with a sink that records, and the engine plugs in a ProgressChannel.
#pragma once

#include "common/protocol.h"

namespace syncbn::train {

class EventSink {
 public:
  virtual ~EventSink() = default;

  // Called from the training loop: must return promptly whatever the consumer does.
  virtual void publish(const protocol::Message& message) = 0;
};

}  // namespace syncbn::train
