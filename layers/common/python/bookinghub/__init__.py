"""bookinghub: the shared package of the booking-integration hub (deployed as a Lambda layer).

Layers: `models/` (pydantic), `services/` (business rules), `dal/` (the only DynamoDB code),
`integrations/` (the only outbound HTTP code). Importing this package is cheap on purpose: no AWS client
and no heavy import happens at import time (cold starts). In Lambda it pauses the cyclic garbage
collector until the first invocation ends (core/coldstart.py).
"""

from bookinghub.core.coldstart import pause_for_init

pause_for_init()
