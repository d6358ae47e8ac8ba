"""Every declared change of a resource address, in one place.

Terraform keeps each object under its resource address (`aws_s3_bucket.terraform_state`).
cdktf derives addresses from the construct tree, so renaming or moving a construct
changes the address, and Terraform then plans to destroy the object under the old
address and to create a new one (hashicorp/terraform-cdk#219). A `Move` here becomes a
`moved` block in its stack (`components/shared/state_blocks.py`), so every state file
that still holds the old address follows the object to the new one instead.

The address lock (`tests/test_address_lock.py`, snapshots in `tests/addresses/`) fails
when an address disappears without an entry here. Entries stay for good: a state file
anywhere (another environment, a deployment not applied since) may still hold the old
address, and the lock fails when a recorded move is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Move:
    """The resource at `from_address` is now `to_address`, in the same stack (and state)."""

    stack_id: str
    from_address: str
    to_address: str
    why: str


@dataclass(frozen=True)
class Removal:
    """A resource taken out of a stack on purpose.

    `keep_object=True` renders `removed { lifecycle { destroy = false } }`: Terraform
    forgets the object and leaves it in AWS (e.g. another stack imports it).
    `keep_object=False` renders nothing: the next apply destroys the object, as intended.
    """

    stack_id: str
    address: str
    keep_object: bool
    why: str
    environments: tuple[str, ...] = ()
    """Where the address went away; empty: in every environment."""

    def applies_to(self, environment: str) -> bool:
        return not self.environments or environment in self.environments


MOVES: tuple[Move, ...] = (
    Move("00-bootstrap", "aws_s3_bucket.state-bucket_828F7150", "aws_s3_bucket.terraform_state",
         why="the state bucket takes the HCL project's address, so its bootstrap state carries over"),
    Move("00-bootstrap", "aws_dynamodb_table.lock-table", "aws_dynamodb_table.terraform_lock",
         why="the lock table takes the HCL project's address, so its bootstrap state carries over"),
    *(Move("30-security-groups", f"{kind}.ecs-{direction}-intra-tcp-4040", f"{kind}.ecs-{direction}-intra-tcp-4041",
           why="Pyroscope's own HTTP port moved to 4041 (its proxy took 4040): the same in-group rule, "
               "its port updated in place")
      for kind, direction in (("aws_vpc_security_group_ingress_rule", "ingress"),
                              ("aws_vpc_security_group_egress_rule", "egress"))),
)

REMOVALS: tuple[Removal, ...] = (
    Removal("00-bootstrap", "aws_iam_openid_connect_provider.github-deploy-access_oidc-provider_A9CB926B",
            keep_object=True, environments=("staging",),
            why="an account has one GitHub OIDC provider, which prod creates: staging looks it up and must "
                "never destroy it"),
)
